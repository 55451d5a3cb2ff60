from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def floor(request):
    """The floor of the pages: a signed-in view that renders a template from the user
    object alone, through the same middleware, session and template engine."""
    return render(request, "bench/floor.html", {"person": request.user})
