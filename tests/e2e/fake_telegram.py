"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests and the bench.

The real python-telegram-bot client talks to it over HTTP (`base_url` = `fake.base_url`). It
records every call, serves injected updates through `getUpdates` (long poll with `offset` and
`timeout`), and can answer the next calls of a method with 429 / 5xx / 403 or drop the
connection. With `per_second` set it also keeps Telegram's overall limit: a send beyond that
many in the last second (all tokens, as for one bot) is answered 429 and counted in
`throttled`; a send with `allow_paid_broadcast` counts against `paid_per_second` instead.
Facts it is built on: /work/shared/notes/platform-fakes.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123:ABC"
BOT_ID = 999_000
BOT_USERNAME = "CoachTestBot"

# Request parameters that python-telegram-bot sends as JSON strings.
_JSON_PARAMS = {
    "reply_markup",
    "commands",
    "allowed_updates",
    "scope",
    "entities",
    "caption_entities",
    "link_preview_options",
    "reply_parameters",
    "media",
}

SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendAnimation", "sendMediaGroup"}

Params = dict[str, Any]
Predicate = Callable[[Params], bool]


@dataclass
class Call:
    method: str
    params: Params
    status: int
    result: Any = None
    token: str = TOKEN
    at: float = field(default_factory=time.perf_counter)  # when the fake received it
    # The fake's uploads by file id, so a file sent again by its id still reads as that file.
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def callback_data(self) -> list[str]:
        """Every callback_data of the inline keyboard sent with this call, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [
            button["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for button in row
            if "callback_data" in button
        ]

    @property
    def files(self) -> list[dict[str, Any]]:
        """The files uploaded with this call (filename, size, content_type, head), in the
        order a media group lists them."""
        media = self.params.get("media")
        if isinstance(media, list):
            found = [self._file(str(item.get("media", ""))) for item in media]
            return [item for item in found if item is not None]
        sent = [self.params.get(name) for name in ("photo", "animation", "document")]
        found = [self._file(item) if isinstance(item, str) else item for item in sent]
        return [item for item in found if isinstance(item, dict) and "head" in item]

    def reused(self) -> int:
        """How many of this call's files were sent by the file id of an earlier upload."""
        media = self.params.get("media")
        named = (
            [str(item.get("media", "")) for item in media]
            if isinstance(media, list)
            else [self.params.get(n) for n in ("photo", "animation")]
        )
        return sum(1 for item in named if isinstance(item, str) and item in self.uploads)

    def _file(self, named: str) -> dict[str, Any] | None:
        if named.startswith("attach://"):
            found = self.params.get(named.removeprefix("attach://"))
            return found if isinstance(found, dict) else None
        return self.uploads.get(named)

    @property
    def captions(self) -> list[str]:
        """The caption of each item of a media group, or this call's caption."""
        media = self.params.get("media")
        if isinstance(media, list):
            return [str(item.get("caption") or "") for item in media]
        return [str(self.params.get("caption") or "")]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]


@dataclass
class Fault:
    method: str
    status: int  # 429, 5xx, 403, 400 ... or 0 to drop the connection
    times: int
    retry_after: int | None = None
    description: str | None = None
    when: Predicate | None = None


@dataclass
class FakeTelegram:
    token: str = TOKEN
    bot_username: str = BOT_USERNAME
    calls: list[Call] = field(default_factory=list)
    # Chats whose every send answers 403 "bot was blocked by the user".
    blocked: set[int] = field(default_factory=set)
    # Chat id -> user ids that are administrators (and owners) of that group.
    admins: dict[int, set[int]] = field(default_factory=dict)
    # Group chat id -> the supergroup it was upgraded to (sends answer migrate_to_chat_id).
    migrations: dict[int, int] = field(default_factory=dict)
    webhook: Params | None = None
    # Uploaded files by the file id the fake gave them: a file id sent again must be one of these.
    file_ids: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Overall sends a second before 429 (None: no limit), paid broadcasts apart; `throttled`
    # counts the sends refused for it.
    per_second: int | None = None
    paid_per_second: int = 1000
    throttled: int = 0
    rate_clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        # Pending updates per bot token: more than one bot may poll the same fake (bench).
        self._queues: dict[str, list[dict[str, Any]]] = {self.token: []}
        self._new_update = asyncio.Event()
        self._new_call = asyncio.Event()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._faults: list[Fault] = []
        self._chat_types: dict[int, str] = {}
        self._accepted: dict[bool, deque[float]] = {False: deque(), True: deque()}  # by paid
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        app.router.add_get("/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._closing = True
        self._new_update.set()  # end pending long polls now, not at their timeout
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ test controls

    def add_bot(self, token: str) -> None:
        """Accept a second bot token, with its own update queue."""
        self._queues.setdefault(token, [])

    def inject_update(self, update: dict[str, Any], *, token: str | None = None) -> dict[str, Any]:
        """Queue an update for getUpdates; assigns `update_id` when it has none."""
        if "update_id" not in update:
            update["update_id"] = next(self._update_ids)
        for key in ("message", "edited_message"):
            chat = (update.get(key) or {}).get("chat")
            if chat:
                self._chat_types[int(chat["id"])] = chat["type"]
        self._queues[token or self.token].append(update)
        self._new_update.set()
        return update

    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        when: Predicate | None = None,
    ) -> None:
        """The next `times` calls of `method` (matching `when`) fail with `status`.

        status 429 answers with parameters.retry_after; status 0 drops the connection.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(Fault(method, status, times, retry_after, description, when))

    def clear_faults(self) -> None:
        self._faults.clear()

    def mark(self) -> int:
        """A position in the call log, for `since=` arguments."""
        return len(self.calls)

    def calls_to(
        self,
        method: str | tuple[str, ...],
        predicate: Predicate | None = None,
        *,
        since: int = 0,
        ok_only: bool = True,
    ) -> list[Call]:
        methods = (method,) if isinstance(method, str) else method
        return [
            call
            for call in self.calls[since:]
            if call.method in methods
            and (call.ok or not ok_only)
            and (predicate is None or predicate(call.params))
        ]

    def sent_to(self, chat_id: int, *, since: int = 0) -> list[Call]:
        """Successful messages (text, photo, animation, album or document) the bot sent or edited
        in one chat."""
        methods = {
            "sendMessage",
            "sendPhoto",
            "sendAnimation",
            "sendMediaGroup",
            "sendDocument",
            "editMessageText",
        }
        return [
            call
            for call in self.calls[since:]
            if call.ok and call.method in methods and call.chat_id == chat_id
        ]

    async def wait_for(
        self,
        method: str | tuple[str, ...],
        predicate: Predicate | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole wait, by design
        since: int = 0,
        ok_only: bool = True,
    ) -> Call:
        """The first call of `method` (or one of several) after `since` matching `predicate`,
        waiting up to `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.calls_to(method, predicate, since=since, ok_only=ok_only)
            if found:
                return found[0]
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [(c.method, c.status) for c in self.calls[since:]]
                raise TimeoutError(f"no {method} call matched; calls since {since}: {seen}")
            self._new_call.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_call.wait(), remaining)

    # ------------------------------------------------------------------ update builders

    @staticmethod
    def user(user_id: int, first_name: str = "Ana") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name}

    @staticmethod
    def chat(chat_id: int, chat_type: str = "private", title: str = "Stretch Club") -> Params:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": "Ana"}
        return {"id": chat_id, "type": chat_type, "title": title}

    def message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        chat_type: str | None = None,
        first_name: str = "Ana",
        edited: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """A message update (text or, with `extra`, a sticker/photo/...); private by default."""
        chat_id = user_id if chat_id is None else chat_id
        chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
            "from": self.user(user_id, first_name),
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if edited:
            message["edit_date"] = int(time.time())
        message.update(extra)
        return {"edited_message" if edited else "message": message}

    def callback(
        self,
        user_id: int,
        data: str,
        *,
        on: Call | None = None,
        chat_id: int | None = None,
        message_id: int | None = None,
        first_name: str = "Ana",
    ) -> dict[str, Any]:
        """A button press on a message the bot sent (`on`, a recorded sendMessage call)."""
        if on is not None:
            chat_id = int(on.result["chat"]["id"])
            message_id = int(on.result["message_id"])
        chat_id = user_id if chat_id is None else chat_id
        message_id = message_id if message_id is not None else next(self._message_ids)
        chat_type = self._chat_types.get(chat_id, "private" if chat_id > 0 else "supergroup")
        return {
            "callback_query": {
                "id": str(next(self._update_ids) + 10_000_000),
                "from": self.user(user_id, first_name),
                "chat_instance": f"ci{chat_id}",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": self.chat(chat_id, chat_type),
                    "from": self._bot_user(),
                    "text": "question",
                },
            }
        }

    # ------------------------------------------------------------------ server

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Coach",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _params(self, request: web.Request) -> Params:
        params: Params = {}
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            return dict(body)
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                content = value.file.read()
                params[key] = {
                    "filename": value.filename,
                    "size": len(content),
                    "content_type": value.content_type,
                    "head": content[:32],  # enough for a PNG's or a GIF's width and height
                }
            elif key in _JSON_PARAMS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
            else:
                params[key] = value
        return params

    def _take_fault(self, method: str, params: Params) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.times > 0:
                if fault.when is not None and not fault.when(params):
                    continue
                fault.times -= 1
                return fault
        return None

    def _over_limit(self, method: str, params: Params) -> bool:
        """Whether this send goes over the overall limit of the last second (else it counts)."""
        if self.per_second is None or method not in SEND_METHODS:
            return False
        paid = is_paid(params)
        limit = self.paid_per_second if paid else self.per_second
        now = self.rate_clock()
        recent = self._accepted[paid]
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= limit:
            self.throttled += 1
            return True
        recent.append(now)
        return False

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._new_call.set()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await self._params(request)
        token = request.match_info["token"]
        if token not in self._queues:
            self._record(Call(method, params, 401, token=token))
            return _error(401, "Unauthorized")

        fault = self._take_fault(method, params)
        if fault is not None:
            self._record(Call(method, params, fault.status or 599, token=token))
            if fault.status == 0:
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)
            if fault.status == 429:
                return _error(
                    429,
                    fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            if fault.status == 403:
                return _error(403, fault.description or "Forbidden: bot was blocked by the user")
            return _error(fault.status, fault.description or "Internal Server Error")

        if self._over_limit(method, params):
            self._record(Call(method, params, 429, token=token))
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})

        chat_id = params.get("chat_id")
        if chat_id is not None and int(chat_id) in self.blocked:
            self._record(Call(method, params, 403, token=token))
            return _error(403, "Forbidden: bot was blocked by the user")

        if chat_id is not None and int(chat_id) in self.migrations:
            self._record(Call(method, params, 400, token=token))
            return _error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrations[int(chat_id)]},
            )

        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            self._record(Call(method, params, 404, token=token))
            return _error(404, "Not Found: method not found")
        result = await (handler(params, token) if method == "getUpdates" else handler(params))
        if isinstance(result, web.Response):  # the method refused the request
            self._record(Call(method, params, result.status, token=token))
            return result
        self._record(Call(method, params, 200, result, token=token, uploads=self.file_ids))
        return web.json_response({"ok": True, "result": result})

    def _message(self, params: Params, **fields: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat_type = self._chat_types.get(chat_id, "private" if chat_id > 0 else "supergroup")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
            "from": self._bot_user(),
        }
        if "reply_markup" in params and isinstance(params["reply_markup"], dict):
            message["reply_markup"] = params["reply_markup"]
        message.update(fields)
        return message

    # -- methods (`_m_<method>`): each returns the `result`.

    async def _m_getMe(self, params: Params) -> Any:
        return self._bot_user()

    async def _m_setMyCommands(self, params: Params) -> Any:
        return True

    async def _m_deleteMyCommands(self, params: Params) -> Any:
        return True

    async def _m_deleteWebhook(self, params: Params) -> Any:
        self.webhook = None
        return True

    async def _m_setWebhook(self, params: Params) -> Any:
        self.webhook = params
        return True

    async def _m_getUpdates(self, params: Params, token: str) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # Updates below the offset are confirmed: forget them, as Telegram does.
            queue = [u for u in self._queues[token] if u["update_id"] >= offset]
            self._queues[token] = queue
            remaining = deadline - loop.time()
            if queue or remaining <= 0 or self._closing:
                return queue[:limit]
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), remaining)

    async def _m_sendMessage(self, params: Params) -> Any:
        return self._message(params, text=params.get("text", ""))

    def _stored(self, sent: Any) -> str | None:
        """The file id of an upload (a new one), or of a file id sent again (None: unknown)."""
        if isinstance(sent, dict):
            file_id = f"F{len(self.file_ids) + 1}"
            self.file_ids[file_id] = sent
            return file_id
        return str(sent) if str(sent) in self.file_ids else None

    async def _m_sendPhoto(self, params: Params) -> Any:
        file_id = self._stored(params.get("photo"))
        if file_id is None:
            return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 10, "height": 10}]
        fields: dict[str, Any] = {"photo": photo}
        if params.get("caption"):
            fields["caption"] = params["caption"]
        return self._message(params, **fields)

    async def _m_sendDocument(self, params: Params) -> Any:
        sent = params.get("document")
        name = sent.get("filename", "file") if isinstance(sent, dict) else "file"
        fields: dict[str, Any] = {"document": {"file_id": "d1", "file_unique_id": "u2"}}
        fields["document"]["file_name"] = name
        if params.get("caption"):
            fields["caption"] = params["caption"]
        return self._message(params, **fields)

    async def _m_sendAnimation(self, params: Params) -> Any:
        file_id = self._stored(params.get("animation"))
        if file_id is None:
            return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        animation = {"file_id": file_id, "file_unique_id": file_id, "width": 10, "height": 10}
        fields: dict[str, Any] = {"animation": animation, "document": animation}
        if params.get("caption"):
            fields["caption"] = params["caption"]
        return self._message(params, **fields)

    async def _m_sendMediaGroup(self, params: Params) -> Any:
        """Each item's file comes as its own multipart part, named by "attach://<part>", or
        as the file id of an earlier upload."""
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            return _error(400, "Bad Request: wrong number of media items")
        group = str(next(self._message_ids))
        messages = []
        for item in media:
            named = str(item.get("media", ""))
            part = named.removeprefix("attach://")
            file_id = self._stored(params.get(part) if named.startswith("attach://") else named)
            if file_id is None:
                return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
            photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 10, "height": 10}]
            fields: dict[str, Any] = {"photo": photo, "media_group_id": group}
            if item.get("caption"):
                fields["caption"] = item["caption"]
            messages.append(self._message(params, **fields))
        return messages

    async def _m_editMessageText(self, params: Params) -> Any:
        message = self._message(params, text=params.get("text", ""))
        message["message_id"] = int(params["message_id"])
        message["edit_date"] = int(time.time())
        return message

    async def _m_editMessageReplyMarkup(self, params: Params) -> Any:
        message = self._message(params, text="")
        message["message_id"] = int(params["message_id"])
        return message

    async def _m_answerCallbackQuery(self, params: Params) -> Any:
        return True

    async def _m_getChatMember(self, params: Params) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        user = self.user(user_id)
        if user_id in self.admins.get(chat_id, set()):
            return {"status": "creator", "user": user, "is_anonymous": False}
        return {"status": "member", "user": user}

    async def _m_getChatAdministrators(self, params: Params) -> Any:
        chat_id = int(params["chat_id"])
        return [
            {"status": "creator", "user": self.user(uid), "is_anonymous": False}
            for uid in sorted(self.admins.get(chat_id, set()))
        ]


def _error(code: int, description: str, parameters: Params | None = None) -> web.Response:
    body: Params = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


def is_paid(params: Params) -> bool:
    """Whether a send asked for a paid broadcast (`allow_paid_broadcast`, JSON or form value)."""
    return str(params.get("allow_paid_broadcast", "")).lower() == "true"
