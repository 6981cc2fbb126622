"""A local stand-in for api.telegram.org: a real HTTP server on 127.0.0.1 speaking the Bot API.

It keeps the state the commands depend on (the webhook, the updates waiting for getUpdates and
their confirmation by ``offset``), records every call, and can be told to refuse the next calls
with Telegram's own error answers (401, 409, 429 with retry_after), or to cut an answer short.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "123456789:AAHfakeTokenForTests_0123456789abcdef"


@dataclass
class FakeTelegram:
    token: str = TOKEN
    me: dict[str, Any] = field(
        default_factory=lambda: {
            "id": 123456789,
            "is_bot": True,
            "first_name": "tgpipe",
            "username": "tgpipe_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }
    )
    webhook: dict[str, Any] = field(default_factory=lambda: {"url": "", "pending_update_count": 0})
    pending: list[bytes] = field(default_factory=list)  # raw update bodies, in update_id order
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # (method or None for any, status, body): answered instead of the method's normal answer
    refusals: list[tuple[str | None, int, dict[str, Any]]] = field(default_factory=list)
    # methods whose next answer is cut short: a Content-Length it never reaches, then a closed socket
    truncate: list[str] = field(default_factory=list)
    url: str = ""

    # -- Bot API methods ------------------------------------------------------------------------
    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        self.calls.append((method, params))
        for i, (only, status, body) in enumerate(self.refusals):
            if only in (None, method):
                del self.refusals[i]
                return status, json.dumps(body).encode()
        if method == "getMe":
            return _ok(self.me)
        if method == "setWebhook":
            self.webhook = {
                "url": params["url"],
                "pending_update_count": len(self.pending),
                "allowed_updates": params.get("allowed_updates", []),
            }
            return _ok(True)
        if method == "deleteWebhook":
            self.webhook = {"url": "", "pending_update_count": len(self.pending)}
            if params.get("drop_pending_updates"):
                self.pending.clear()
            return _ok(True)
        if method == "getWebhookInfo":
            return _ok({**self.webhook, "pending_update_count": len(self.pending)})
        if method == "getUpdates":
            return self._get_updates(params)
        return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'

    def _get_updates(self, params: dict[str, Any]) -> tuple[int, bytes]:
        if self.webhook.get("url"):
            return 409, json.dumps(
                {
                    "ok": False,
                    "error_code": 409,
                    "description": "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                }
            ).encode()
        offset = params.get("offset")
        if offset is not None:  # confirm everything before the offset
            self.pending = [b for b in self.pending if json.loads(b)["update_id"] >= offset]
        batch = self.pending[: params.get("limit", 100)]
        # Telegram's own formatting: compact JSON, each update as it was queued.
        return 200, b'{"ok":true,"result":[' + b",".join(batch) + b"]}"

    def refuse(self, status: int, description: str, method: str | None = None, **parameters: Any) -> None:
        """Answer the next call (of ``method``, if given) with a Telegram error."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.refusals.append((method, status, body))

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]


def _ok(result: Any) -> tuple[int, bytes]:
    return 200, json.dumps({"ok": True, "result": result}).encode()


def serve(fake: FakeTelegram) -> ThreadingHTTPServer:
    """Start the fake on a free loopback port (``fake.url`` is set); call ``shutdown()`` to stop."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            params = json.loads(self.rfile.read(length) or b"{}")
            prefix = f"/bot{fake.token}/"
            if self.path.startswith(prefix):
                status, body = fake.answer(self.path[len(prefix) :], params)
            else:
                fake.calls.append(("<bad token>", params))
                status, body = 401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}'
            method = self.path[len(prefix) :]
            cut = method in fake.truncate
            if cut:
                fake.truncate.remove(method)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + (100 if cut else 0)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if cut else body)
            if cut:
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
