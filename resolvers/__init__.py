"""Use cases: validate input, check the viewer's rights, apply the domain rules, call store/."""
