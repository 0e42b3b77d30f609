from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cohortsafe.app.accounts"
    label = "accounts"
    verbose_name = "Accounts"
