"""`newsletter serve`: the reader service on waitress, with its mail sender beside it, and the
built blog (dist/site/) under it when there is one, so the blog's form works on one address.

In production put it behind Caddy or nginx with TLS (docs/readers.md): the proxy sends the
service's paths here and may serve dist/site/ itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.core.config import Config
from pipeline.core.errors import ConfigError
from pipeline.deliver.subscribers import store_path
from pipeline.deliver.tokens import SECRET_ENV, checked_secret
from pipeline.readers import DEFAULT_THREADS
from pipeline.readers.commits import GroupCommit
from pipeline.readers.mail import Composer, Links, MailSender, relay_for
from pipeline.readers.service import MAX_BODY, ReaderService

log = logging.getLogger("newsletter.readers")


@dataclass
class Running:
    app: ReaderService
    sender: MailSender
    relay_name: str
    welcome: bool  # content/welcome.md exists


def reader_service(config: Config, env: Mapping[str, str], with_site: bool = True) -> Running:
    """The app and its sender, checked: the secret is set, the relay is one we can send through,
    and content/welcome.md (if there) builds."""
    secret = env.get(SECRET_ENV, "")
    if not secret:
        raise ConfigError(
            f"set the environment variable {SECRET_ENV} (at least 16 random characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`): it signs every reader link"
        )
    checked_secret(secret)
    relay = relay_for(config, env)
    links = Links(config, secret)
    composer = Composer(config, links)
    welcome = composer.welcome_article() is not None  # a broken welcome stops here, with file:line
    writes = GroupCommit(store_path(config))  # the requests' and the sender's writes, batched
    sender = MailSender(store_path(config), composer, relay, writes=writes)
    site = config.dist_dir / "site"
    fallback = None
    if with_site and site.is_dir():
        from whitenoise import WhiteNoise

        fallback = WhiteNoise(_not_found, root=str(site), index_file=True, autorefresh=True)
    app = ReaderService(config, secret, wake_sender=sender.wake.set, fallback=fallback, writes=writes)
    return Running(app, sender, relay.describe(), welcome)


def _not_found(environ, start_response):
    body = b"Not found"
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def serve(running: Running, host: str, port: int, threads: int = DEFAULT_THREADS, ready=None) -> None:
    """Serve until interrupted; the sender drains the queue first and then runs beside."""
    from waitress.server import create_server

    server = create_server(
        running.app,
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=MAX_BODY,
        ident="newsletter",
        # With [readers] trusted_proxies the app reads X-Forwarded-For itself, believing it only
        # from those proxies (service.client_address); else waitress drops every proxy header.
        clear_untrusted_proxy_headers=not running.app.trusted,
    )
    running.sender.start()
    if ready is not None:
        ready(server)
    try:
        server.run()
    finally:
        running.sender.stop()
        server.close()


def service_for_root(root: str = "."):
    """The service (and its mail sender) for a project, for another WSGI server:
    `gunicorn 'pipeline.readers.serve:service_for_root("/srv/newsletter")'` (one worker process:
    the sender runs in it)."""
    import os

    from pipeline.core.config import load_config

    running = reader_service(load_config(root), os.environ)
    running.sender.start()
    return running.app
