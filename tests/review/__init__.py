"""Circumvention flags, reviewers' decisions and the review pages (DESIGN.md, "Circumvention")."""
