class DomainError(Exception):
    """A refused action, with a message written for the person who asked.

    Services raise it before changing anything, or inside their single
    ``transaction.atomic`` block so that the whole change rolls back. Views show
    ``message`` to the user as it is.
    """

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
