"""manage.py create_webhook USERNAME [--scope crm,task,user] [--name NAME]: an incoming webhook of
that user, as the profile makes one. The last line printed is the base path `/rest/<user id>/<code>/`
(the code is shown only here: just its hash is kept)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from rest import services
from rest.models import Scope


class Command(BaseCommand):
    help = "Create an incoming webhook (Bitrix24 REST) for a user; prints its base path last."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", default="crm,task,user",
                            help=f"comma-separated scopes among {','.join(Scope.values)} (default crm,task,user)")
        parser.add_argument("--name", default="", help="a name to tell it by")

    def handle(self, *args, username, scope, name, **options):
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is not active.")
        scopes = [s.strip().lower() for s in scope.split(",") if s.strip()]
        unknown = [s for s in scopes if s not in Scope.values]
        if unknown or not scopes:
            raise CommandError(f"Unknown scopes: {', '.join(unknown) or '(none given)'}; "
                               f"choose among {','.join(Scope.values)}.")
        webhook, code = services.webhook_create(user, name=name, scopes=scopes)
        self.stdout.write(f"Webhook {webhook.pk} of {user.username}: scopes {webhook.scopes}. Keep the code secret.")
        self.stdout.write(services.base_path(user.pk, code))
