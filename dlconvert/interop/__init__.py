"""Bridges between the Dataloop model and other libraries' in-memory models.

Each submodule imports its library only when one of its functions is called, so importing this
package (or ``dlconvert``) loads none of them:

* :mod:`dlconvert.interop.supervision`: ``sv.Detections`` and ``sv.DetectionDataset`` (Roboflow
  supervision), both ways (``pip install "dlconvert[supervision]"``).
"""

from __future__ import annotations

__all__: list[str] = []
