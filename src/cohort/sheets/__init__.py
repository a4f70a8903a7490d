"""What organizers hand us and take away: the roster, Google Forms, exports, backup and restore."""
