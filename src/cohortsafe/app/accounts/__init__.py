"""People who use cohortsafe: one account per person, with one role."""
