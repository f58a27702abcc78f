"""What the fuzzing tests (tests/test_fuzz_*.py) share: near-valid draws and outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")
E = TypeVar("E", bound=Exception)


def mostly(draw: st.DrawFn, valid: st.SearchStrategy[T], other: st.SearchStrategy[T]) -> T:
    """Draw from *valid* five times in six, else from *other*.

    Documents built this way are near-valid: most pieces are right, so the
    parser gets past its first check and every later one is reached.
    """
    return draw(draw(st.sampled_from([valid, valid, valid, valid, valid, other])))


def outcome(allowed: type[E], parse: Callable[..., T], *args: Any, **kwargs: Any) -> T | E:
    """Return what *parse* returns, or the *allowed* exception it raises; any other escapes."""
    try:
        return parse(*args, **kwargs)
    except allowed as error:
        return error


# Any JSON value (RFC 8259 §3), a few levels deep; NaN and the infinities are not JSON.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
