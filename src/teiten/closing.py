"""``with`` for objects that hold something (a file, a database) until they are closed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing:
    """``with obj:`` closes ``obj`` when the block ends, however it ends."""

    def close(self) -> None:
        """Release what is held (nothing here)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
