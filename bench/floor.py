"""The floor: a bare Flask app with one route returning small JSON, served like the real one."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    """The smallest useful JSON answer."""
    return {"status": "ok"}
