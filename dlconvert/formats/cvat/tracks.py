"""CVAT for video tracks ↔ Dataloop video annotations: which frames are stored, hidden, and where a track ends.

The two models differ in what happens between stored frames. CVAT *interpolates* between keyframes
(linearly for boxes, ellipses, cuboids and single points) and carries the last keyframe to the end of
the task; a shape with ``outside="1"`` hides the object from that frame on. Dataloop *holds* each
stored state until the next one (``FrameAnnotation.fixed`` marks keyframes) and ends a track at its
``endFrame``; ``objectVisible: false`` hides it. The mapping:

* Reading: every shape of a track is a stored state — a keyframe (``keyframe="1"``) a fixed one, an
  interpolated one (CVAT's exports write every frame between keyframes, ``keyframe="0"``) a non-fixed
  one, an ``outside`` one hidden. So Dataloop shows what CVAT shows on every frame. Where a file
  stores keyframes only (written by hand, or by other tools), the frames between two visible keyframes
  are filled with CVAT's own interpolation (boxes with their rotation by the shorter way round,
  ellipses, cuboids, single points; masks and unchanged shapes hold, as Dataloop does with nothing
  stored); a polygon or polyline that changes
  between keyframes with no shapes between is refused (``cvat.track-gap``): CVAT morphs its outline
  in a way dlconvert does not reproduce. ``outside`` shapes after the last visible one end the track
  (``endFrame`` = the frame before); a track without one runs to the task's last frame (CVAT carries
  it there). Frames skipped by the task's ``step=N`` are no gaps.
* Writing: every stored state is a shape (``keyframe`` = fixed, ``outside`` = hidden). A track that
  ends before the video does gets an ``outside`` shape on the frame after its end. Where Dataloop holds
  a state over frames with no stored state and the next state differs, CVAT would interpolate: the held
  state is repeated as a keyframe on the frame before the next one (reported ``cvat.held-state-repeated``:
  it reads back as one more stored state). A track whose last stored state is hidden ends there in
  CVAT (reported ``cvat.hidden-track-end``: it reads back ending the frame before, without that state).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...annotation import Annotation
from .._fingerprint import geometry_fingerprint

__all__ = ["Shape", "TrackPlan", "plan_track", "states_of"]

#: Shapes CVAT interpolates linearly between keyframes (its ``simple_interpolation``).
_LINEAR = frozenset({"box", "ellipse", "cube", "point"})
#: Shapes CVAT carries unchanged between keyframes.
_HELD = frozenset({"binary"})


@dataclass
class Shape:
    """One shape of a track: its frame, geometry and flags (``z_order`` per frame)."""

    frame: int
    definition: Any
    keyframe: bool = True
    outside: bool = False
    z_order: int = 0
    line: int | None = None  # where it was read


@dataclass
class TrackPlan:
    """What a Dataloop track becomes in CVAT: the shapes to write, and what will read back otherwise."""

    shapes: list[Shape] = field(default_factory=list)
    approximations: list[tuple[str, str]] = field(default_factory=list)  # (code, message)


# ==== reading ===========================================================================================
def states_of(shapes: list[Shape], step: int, stop_frame: int | None) -> tuple[list[Shape], int]:
    """The states to store for a track's shapes (gaps filled as CVAT interpolates them) and its end frame.

    Raises ``ValueError`` with the reason when a gap cannot be filled as CVAT fills it.
    """
    shapes = sorted(shapes, key=lambda s: s.frame)
    for first, second in itertools.pairwise(shapes):
        if first.frame == second.frame:
            raise ValueError(f"two shapes on frame {first.frame}")
    visible = [i for i, s in enumerate(shapes) if not s.outside]
    end = None
    if visible and visible[-1] < len(shapes) - 1:  # outside shapes after the last visible one: the track's end
        end = shapes[visible[-1] + 1].frame - 1
        shapes = shapes[:visible[-1] + 1]
    states: list[Shape] = []
    for current, following in zip(shapes, [*shapes[1:], None], strict=True):
        states.append(current)
        if following is not None and not current.outside and following.frame - current.frame > step:
            states.extend(_between(current, following, step))
    if end is None:
        end = max(states[-1].frame, stop_frame if stop_frame is not None else states[-1].frame)
    return states, end


def _between(first: Shape, second: Shape, step: int) -> list[Shape]:
    """The shapes CVAT draws on the frames between two keyframes."""
    kind = first.definition.type
    frames = range(first.frame + step, second.frame, step)
    same = geometry_fingerprint(first.definition) == geometry_fingerprint(second.definition)
    if kind in _HELD or same or kind != second.definition.type:
        return []  # CVAT holds the first: so does Dataloop, with nothing stored
    if kind not in _LINEAR:
        raise ValueError(f"CVAT morphs a {kind} between its keyframes at frames {first.frame} and {second.frame}, "
                         f"which dlconvert does not reproduce (CVAT's own exports write every frame between)")
    distance = second.frame - first.frame
    return [_copy(first, frame, _mix(first.definition, second.definition, (frame - first.frame) / distance))
            for frame in frames]


def _copy(shape: Shape, frame: int, definition: Any) -> Shape:
    return Shape(frame, definition, keyframe=False, outside=False, z_order=shape.z_order)


def _mix(a: Any, b: Any, offset: float) -> Any:
    """``a`` moved ``offset`` of the way to ``b``, as CVAT interpolates (angles the shorter way round)."""
    mixed = copy.deepcopy(a)
    if a.type == "box":
        for name in ("left", "top", "right", "bottom"):
            setattr(mixed, name, getattr(a, name) + (getattr(b, name) - getattr(a, name)) * offset)
        angle = _angle(a.angle or 0, b.angle or 0, offset)
        mixed.angle = angle if angle % 360 else None
    elif a.type == "ellipse":
        for name in ("x", "y", "rx", "ry"):
            setattr(mixed, name, getattr(a, name) + (getattr(b, name) - getattr(a, name)) * offset)
        mixed.angle = _angle(a.angle, b.angle, offset)
    elif a.type == "point":
        mixed.x, mixed.y = a.x + (b.x - a.x) * offset, a.y + (b.y - a.y) * offset
    else:  # cube: every corner
        from ...geometry.cube import CUBE_CORNERS

        for name in CUBE_CORNERS:
            start, end = np.array(getattr(a, name)), np.array(getattr(b, name))
            setattr(mixed, name, tuple((start + (end - start) * offset).tolist()))
    return mixed


def _angle(first: float, second: float, offset: float) -> float:
    difference = ((second - first + 180) % 360) - 180
    return (first + difference * offset + 360) % 360


# ==== writing ===========================================================================================
def plan_track(annotation: Annotation, stop_frame: int | None) -> TrackPlan:
    """The shapes of a Dataloop track (see the module docstring), and the changes they make."""
    plan = TrackPlan()
    frames = sorted(annotation.frames.items())
    held_at = []
    for (frame, state), following in zip(frames, [*frames[1:], None], strict=True):
        definition = state.annotation_definition
        plan.shapes.append(Shape(frame, definition, keyframe=state.fixed, outside=not state.object_visible))
        if following is None or not state.object_visible or following[0] <= frame + 1:
            continue
        nxt = following[1].annotation_definition
        if nxt.type not in _HELD and geometry_fingerprint(definition) != geometry_fingerprint(nxt):
            plan.shapes.append(Shape(following[0] - 1, definition, keyframe=True))
            held_at.append(following[0] - 1)
    if held_at:
        plan.approximations.append((
            "cvat.held-state-repeated",
            f"Dataloop holds a state until the next one, CVAT interpolates between keyframes: the held state is "
            f"repeated as a keyframe at frame{'s' if len(held_at) > 1 else ''} {', '.join(map(str, held_at))}"))
    last_frame, last = frames[-1]
    if last.object_visible:
        end = max(annotation.end_frame, last_frame)
        if stop_frame is None or end + 1 <= stop_frame:
            plan.shapes.append(Shape(end + 1, last.annotation_definition, keyframe=True, outside=True))
    elif any(state.object_visible for _, state in frames):
        hidden = _trailing_hidden(frames)
        plan.approximations.append((
            "cvat.hidden-track-end",
            f"CVAT ends a track with its outside shape: the hidden state{'s' if hidden < last_frame else ''} from "
            f"frame {hidden} on read{'' if hidden < last_frame else 's'} back as the end of the track (frame "
            f"{hidden - 1})"))
    return plan


def _trailing_hidden(frames: list) -> int:
    """The first frame of the hidden states that end a track (``frames``: sorted ``(frame, state)``)."""
    first = frames[-1][0]
    for frame, state in reversed(frames):
        if state.object_visible:
            break
        first = frame
    return first
