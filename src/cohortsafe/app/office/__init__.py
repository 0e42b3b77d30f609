"""The statistics office: school keys, intake of packages, the vault, retractions."""
