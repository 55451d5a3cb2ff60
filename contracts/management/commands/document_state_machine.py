from django.core.management.base import BaseCommand

from contracts.state_machine_doc import DOCUMENT, render_state_machine


class Command(BaseCommand):
    help = "Write docs/state-machine.md from the transitions and their declared effects."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only check that the file is up to date.")

    def handle(self, *args, check: bool = False, **options):
        text = render_state_machine()
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if check:
            if current != text:
                self.stderr.write(f"{DOCUMENT} is out of date: run python manage.py document_state_machine")
                raise SystemExit(1)
            self.stdout.write(f"{DOCUMENT} is up to date.")
            return
        DOCUMENT.write_text(text)
        self.stdout.write(f"Wrote {DOCUMENT}.")
