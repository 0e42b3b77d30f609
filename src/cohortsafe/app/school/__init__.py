"""The school's registry: imported pupils, objections, consents and deliveries."""
