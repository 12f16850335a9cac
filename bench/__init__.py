"""`make bench`: figures, each beside a reference measured in the same run. Never asserted."""
