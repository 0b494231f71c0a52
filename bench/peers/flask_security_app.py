"""Flask-Security-Too as its quickstart sets it up, with token authentication for an API."""

# Imports only in .venv-peers (requirements-peers.txt). bench/peers/run.py serves it with
# `gunicorn --workers 2 flask_security_app:app` from this folder (where gunicorn finds no
# gunicorn.conf.py: not ours), after `python flask_security_app.py EMAIL PASSWORD` has created
# the tables and the user once.

import os
import sys

from flask import Flask
from flask_security import (
    Security,
    SQLAlchemyUserDatastore,
    auth_required,
    current_user,
    hash_password,
)
from flask_security.models import fsqla_v3 as fsqla
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

app = Flask(__name__)
# Required, like ours: a default secret could reach production.
app.config["SECRET_KEY"] = os.environ["PEER_SECRET_KEY"]
app.config["SECURITY_PASSWORD_SALT"] = os.environ["PEER_SECRET_KEY"]  # one bench secret for both
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
    "PEER_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/vaccination_peer_fss"
)
# A pure JSON API, as the docs' CSRF section sets one up: no CSRF token to log in (there is no
# session cookie to tie it to), none for requests authenticated by token.
app.config["SECURITY_CSRF_IGNORE_UNAUTH_ENDPOINTS"] = True
app.config["SECURITY_CSRF_PROTECT_MECHANISMS"] = ["session", "basic"]
app.config["WTF_CSRF_CHECK_DEFAULT"] = False
CSRFProtect(app)

# The quickstart's engine option pool_pre_ping stays off, as ours is: it is a round trip per
# request, which would measure the setting rather than the library.
db = SQLAlchemy(app)
fsqla.FsModels.set_db_info(db)


class Role(db.Model, fsqla.FsRoleMixin):
    pass


class User(db.Model, fsqla.FsUserMixin):
    pass


# Argon2 hashing is the default; tokens travel in the Authentication-Token header (the default).
app.security = Security(app, SQLAlchemyUserDatastore(db, User, Role))


@app.get("/me")
@auth_required("token")
def me():
    """The signed-in user, the peer of our GET /users/me."""
    return {"id": current_user.id, "email": current_user.email}


def create_user(email: str, password: str) -> None:
    with app.app_context():
        db.create_all()
        app.security.datastore.create_user(email=email, password=hash_password(password))
        db.session.commit()


if __name__ == "__main__":
    create_user(*sys.argv[1:3])
