from ..services import is_reviewer


class ReviewersMayView:
    """A reviewer judges a flag or a dispute from the contract's own records, so the
    admin shows them contracts, their diary, milestones, history and money to
    reviewers too, read-only unless their other permissions say more."""

    def has_module_permission(self, request):
        return super().has_module_permission(request) or is_reviewer(request.user)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or is_reviewer(request.user)
