"""The Django project: one app per role plus audit; views and commands call services."""
