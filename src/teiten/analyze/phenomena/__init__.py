"""Notable phenomena of a period, found in the store with the evidence behind each."""

from teiten.analyze.phenomena.model import Finding

__all__ = ["Finding"]
