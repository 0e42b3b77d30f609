"""The research environment's registers: projects, their approved variables and researchers."""
