from tests.office.kit import office

__all__ = ["office"]
