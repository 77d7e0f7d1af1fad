"""File formats. Each module reads files into ``AnnotationCollection`` items and writes them back."""
