"""`make bench-peers`: our `GET /users/me` beside the libraries a user would pick instead."""
