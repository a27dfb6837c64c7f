"""A loopback stand-in for Discord: the REST routes and gateway a discord.py bot uses.

The real discord.py client talks to it after `FakeDiscord.patch()` points `Route.BASE` and
`DiscordWebSocket.DEFAULT_GATEWAY` at 127.0.0.1. Every REST call and gateway op is recorded as a
`Call`; tests await them with `wait_for`. Faults (429 with `Via` and `retry_after`, 403, 5xx) are
injected per route with `fail_next`; `close_dms` makes a person's DM channel refuse every message
(403, code 50007) until it is opened again. The gateway supports IDENTIFY → READY and RESUME →
replay of missed dispatches → RESUMED, so `drop_connection()` exercises discord.py's own resume.

Facts this relies on are in /work/shared/notes/platform-fakes.md (Content-Type exactly
application/json, the callback body, the fields an interaction needs).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import discord
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

API = "/api/v10"
EPHEMERAL = 1 << 6
LOADING = 1 << 7
MANAGE_GUILD = 1 << 5
TIMESTAMP = "2025-01-01T00:00:00.000000+00:00"

JsonDict = dict[str, Any]


@dataclass
class Person:
    id: int
    name: str
    permissions: int = 0  # guild permissions as Discord sends them in `member.permissions`

    def payload(self) -> JsonDict:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "public_flags": 0,
        }


@dataclass(frozen=True)
class ChannelRef:
    """A channel given as a slash command option."""

    id: int
    name: str = "team"
    type: int = 0


@dataclass
class Call:
    index: int
    route: str
    method: str
    path: str
    status: int
    at: float
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    json: Any = None
    files: list[tuple[str, bytes]] = field(default_factory=list)
    token: str | None = None  # the interaction token, for interaction routes
    bot: str | None = None  # the bot token used (REST with Authorization, gateway)
    message: JsonDict | None = None  # the message created or edited, as returned

    @property
    def content(self) -> str:
        return str((self.json or {}).get("content") or "")

    @property
    def flags(self) -> int:
        data = self.json or {}
        if self.route == "callback":
            data = data.get("data") or {}
        return int(data.get("flags") or 0)


@dataclass
class Posted:
    """One version of a message as it became visible (posted or edited)."""

    message_id: int
    guild_id: int | None
    ephemeral: bool
    content: str
    custom_ids: list[str]
    route: str
    attachments: list[str] = field(default_factory=list)  # file names
    embeds: list[JsonDict] = field(default_factory=list)


@dataclass
class Fault:
    status: int
    code: int
    retry_after: float
    via: bool
    is_global: bool
    message: str


@dataclass
class Interaction:
    id: int
    token: str
    payload: JsonDict
    sent_at: float = 0.0
    responded: int | None = None  # callback type
    original_id: int | None = None  # message that @original names
    loading: bool = False  # type 5 answered and the first follow-up not yet sent
    ephemeral_defer: bool = False

    @property
    def guild_id(self) -> int | None:
        value = self.payload.get("guild_id")
        return int(value) if value else None


@dataclass
class Bot:
    token: str
    user_id: int
    app_id: int
    name: str

    def user_payload(self) -> JsonDict:
        return {
            "id": str(self.user_id),
            "username": self.name,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "flags": 0,
            "verified": True,
            "mfa_enabled": False,
        }


@dataclass
class Session:
    id: str
    bot: Bot
    seq: int = 0
    events: list[JsonDict] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    resumes: int = 0


def _json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # Exactly "application/json": with "; charset=utf-8" discord.py reads the body as text.
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(body).encode(), status=status, headers=all_headers)


class FakeDiscord:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.posted: list[Posted] = []
        self.messages: dict[int, JsonDict] = {}
        self.message_guild: dict[int, int | None] = {}
        self.message_ephemeral: dict[int, bool] = {}
        self.interactions: dict[str, Interaction] = {}
        self.synced_commands: dict[int, list[JsonDict]] = {}
        self.people: dict[int, Person] = {}
        self.channel_guild: dict[int, int | None] = {}
        self.bots: dict[str, Bot] = {}
        self.sessions: dict[str, Session] = {}
        self._last_session: dict[str, Session] = {}
        self._latest: Session | None = None
        self._faults: dict[str, list[Fault]] = {}
        self._dms_closed: set[int] = set()
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        r = app.router
        r.add_get("/gateway", self._gateway)
        r.add_get(f"{API}/users/@me", self._users_me)
        r.add_get(f"{API}/oauth2/applications/@me", self._app_info)
        r.add_put(f"{API}/applications/{{app_id}}/commands", self._commands_put)
        r.add_put(f"{API}/applications/{{app_id}}/guilds/{{guild_id}}/commands", self._commands_put)
        r.add_post(f"{API}/interactions/{{iid}}/{{token}}/callback", self._callback)
        r.add_post(f"{API}/webhooks/{{app_id}}/{{token}}", self._followup)
        r.add_route(
            "*", f"{API}/webhooks/{{app_id}}/{{token}}/messages/{{mid}}", self._followup_msg
        )
        r.add_post(f"{API}/users/@me/channels", self._dm_create)
        r.add_post(f"{API}/channels/{{channel_id}}/messages", self._channel_message)
        r.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for session in self.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @contextmanager
    def patch(self) -> Iterator[None]:
        """Point discord.py at this fake (class attributes: restore them after)."""
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # ---------------------------------------------------------------- identities

    def bot(self, token: str) -> Bot:
        if token not in self.bots:
            number = len(self.bots) + 1
            self.bots[token] = Bot(
                token=token,
                user_id=1_100_000_000_000_000_000 + number,
                app_id=1_200_000_000_000_000_000 + number,
                name=f"coach{number}",
            )
        return self.bots[token]

    def next_id(self) -> int:
        return next(self._ids)

    def add_channel(self, channel_id: int, guild_id: int | None) -> None:
        self.channel_guild[channel_id] = guild_id

    def dm_channel_id(self, user_id: int) -> int:
        return user_id + 7  # stable, and never a guild channel in these tests

    # ---------------------------------------------------------------- recording and waiting

    def mark(self) -> int:
        return len(self.calls)

    async def _record(self, call: Call) -> Call:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return call

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - the fake's API: one deadline per wait
        since: int = 0,
    ) -> Call:
        """The first recorded call (from index `since`) that matches; waits for it if needed."""
        position = since
        async with asyncio.timeout(timeout):
            while True:
                while position < len(self.calls):
                    call = self.calls[position]
                    position += 1
                    if predicate(call):
                        return call
                async with self._changed:
                    if position >= len(self.calls):
                        await self._changed.wait()

    def find(self, predicate: Callable[[Call], bool], since: int = 0) -> list[Call]:
        return [call for call in self.calls[since:] if predicate(call)]

    def forget(self) -> None:
        """Drop recorded calls and message history (for long benchmark runs)."""
        self.calls.clear()
        self.posted.clear()
        self.interactions.clear()
        self.messages.clear()

    # ---------------------------------------------------------------- faults

    def fail_next(
        self,
        route: str,
        n: int = 1,
        status: int = 429,
        *,
        code: int | None = None,
        retry_after: float = 0.05,
        via: bool = True,
        is_global: bool = False,
    ) -> None:
        """The next `n` calls to `route` answer `status` (429: with `retry_after`, and a `Via`
        header unless via=False; 403 defaults to code 50007, "Cannot send messages to this
        user")."""
        default_codes = {403: 50007, 404: 10003, 400: 50035}
        messages = {
            429: "You are being rate limited.",
            403: "Cannot send messages to this user",
            404: "Unknown Channel",
            400: "Invalid Form Body",
        }
        fault = Fault(
            status=status,
            code=default_codes.get(status, 0) if code is None else code,
            retry_after=retry_after,
            via=via,
            is_global=is_global,
            message=messages.get(status, "Server error"),
        )
        self._faults.setdefault(route, []).extend(fault for _ in range(n))

    def close_dms(self, user: Person, closed: bool = True) -> None:
        """While closed, every message to this person's DM channel answers 403 code 50007
        ("Cannot send messages to this user"), as Discord does when their privacy settings
        block DMs from the bot; opening the DM channel itself still succeeds, as on Discord."""
        if closed:
            self._dms_closed.add(user.id)
        else:
            self._dms_closed.discard(user.id)

    def _dm_refused(self, channel_id: int) -> web.Response | None:
        for user_id in self._dms_closed:
            if channel_id == self.dm_channel_id(user_id):
                fault = Fault(403, 50007, 0.0, False, False, "Cannot send messages to this user")
                return self._fault_response(fault)
        return None

    def _take_fault(self, route: str) -> Fault | None:
        queue = self._faults.get(route)
        if queue:
            return queue.pop(0)
        return None

    def _fault_response(self, fault: Fault) -> web.Response:
        body: JsonDict = {"message": fault.message, "code": fault.code}
        headers: dict[str, str] = {}
        if fault.status == 429:
            body.update(retry_after=fault.retry_after, **{"global": fault.is_global})
            headers["Retry-After"] = str(fault.retry_after)
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            if fault.via:
                headers["Via"] = "1.1 google"
        return _json_response(body, fault.status, headers)

    # ---------------------------------------------------------------- request plumbing

    async def _body(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        if request.content_type == "multipart/form-data":
            payload: Any = None
            files: list[tuple[str, bytes]] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                data = await part.read()
                if part.name == "payload_json":
                    payload = json.loads(data)
                else:
                    files.append((part.filename or part.name or "", bytes(data)))
            return payload, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    def _bot_for(self, request: web.Request) -> Bot | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bot "):
            return None
        token = auth.removeprefix("Bot ")
        return self.bots.get(token)

    async def _handle(
        self,
        request: web.Request,
        route: str,
        answer: Callable[[Call], Any],
        *,
        token: str | None = None,
    ) -> web.Response:
        payload, files = await self._body(request)
        bot = self._bot_for(request)
        call = Call(
            index=0,
            route=route,
            method=request.method,
            path=request.path,
            status=200,
            at=time.perf_counter(),
            params=dict(request.match_info),
            query=dict(request.query),
            json=payload,
            files=files,
            token=token,
            bot=bot.token if bot else None,
        )
        fault = self._take_fault(route)
        if fault is not None:
            call.status = fault.status
            response = self._fault_response(fault)
        else:
            result = answer(call)
            if isinstance(result, web.Response):
                response = result
                call.status = result.status
            elif result is None:
                response = web.Response(status=204)
                call.status = 204
            else:
                response = _json_response(result)
        call.index = len(self.calls)
        await self._record(call)
        return response

    # ---------------------------------------------------------------- messages

    def _message_payload(
        self,
        *,
        message_id: int,
        channel_id: int,
        author: JsonDict,
        content: str,
        components: list[JsonDict],
        flags: int,
        files: list[tuple[str, bytes]],
        app_id: int | None = None,
        interaction: Interaction | None = None,
        data: JsonDict | None = None,
    ) -> JsonDict:
        """`data`: the request's JSON, whose embeds and attachment descriptions are kept."""
        message: JsonDict = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "type": 0 if interaction is None else 20,
            "content": content,
            "author": author,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(files, data or {}),
            "embeds": list((data or {}).get("embeds") or []),
            "pinned": False,
            "flags": flags,
            "components": components,
        }
        if app_id is not None:
            message["application_id"] = str(app_id)
            message["webhook_id"] = str(app_id)
        if interaction is not None:
            user = interaction.payload.get("user") or interaction.payload["member"]["user"]
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.payload["type"],
                "user": user,
                "authorizing_integration_owners": {},
            }
        return message

    def _attachments(self, files: list[tuple[str, bytes]], data: JsonDict) -> list[JsonDict]:
        """Uploaded files as Discord returns them: the content type read from the bytes, the
        description (alt text) from the request's own attachment list."""
        described = {
            str(item.get("filename")): item.get("description")
            for item in data.get("attachments") or []
            if isinstance(item, dict)
        }
        found = []
        for name, body in files:
            attachment: JsonDict = {
                "id": str(self.next_id()),
                "filename": name,
                "size": len(body),
                "url": f"http://127.0.0.1:{self.port}/attachments/{name}",
                "proxy_url": f"http://127.0.0.1:{self.port}/attachments/{name}",
            }
            kind = _content_type(body)
            if kind:
                attachment["content_type"] = kind
            if described.get(name):
                attachment["description"] = described[name]
            found.append(attachment)
        return found

    def _store(self, message: JsonDict, guild_id: int | None, ephemeral: bool, route: str) -> None:
        message_id = int(message["id"])
        self.messages[message_id] = message
        self.message_guild[message_id] = guild_id
        self.message_ephemeral[message_id] = ephemeral
        self.posted.append(
            Posted(
                message_id=message_id,
                guild_id=guild_id,
                ephemeral=ephemeral,
                content=str(message.get("content") or ""),
                custom_ids=custom_ids(message),
                route=route,
                attachments=[str(a["filename"]) for a in message.get("attachments") or []],
                embeds=list(message.get("embeds") or []),
            )
        )

    def public_guild_posts(self) -> list[Posted]:
        """Every version of a message that everyone in a server could see."""
        return [p for p in self.posted if p.guild_id is not None and not p.ephemeral]

    # ---------------------------------------------------------------- REST handlers

    async def _unknown(self, request: web.Request) -> web.Response:
        return await self._handle(
            request,
            "unknown",
            lambda c: _json_response({"message": "404: Not Found", "code": 0}, 404),
        )

    async def _users_me(self, request: web.Request) -> web.Response:
        def answer(call: Call) -> Any:
            bot = self._bot_for(request)
            if bot is None:
                auth = request.headers.get("Authorization", "").removeprefix("Bot ")
                bot = self.bot(auth)
                call.bot = bot.token
            return bot.user_payload()

        return await self._handle(request, "users_me", answer)

    async def _app_info(self, request: web.Request) -> web.Response:
        def answer(call: Call) -> Any:
            bot = self._bot_for(request)
            if bot is None:
                return _json_response({"message": "401: Unauthorized", "code": 0}, 401)
            return {
                "id": str(bot.app_id),
                "name": bot.name,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": Person(1_000, "owner").payload(),
                "verify_key": "0" * 64,
                "flags": 0,
                "interactions_endpoint_url": None,
                "summary": "",
            }

        return await self._handle(request, "app_info", answer)

    async def _commands_put(self, request: web.Request) -> web.Response:
        def answer(call: Call) -> Any:
            app_id = int(call.params["app_id"])
            synced = []
            for command in call.json or []:
                synced.append(
                    {
                        "id": str(self.next_id()),
                        "application_id": str(app_id),
                        "version": str(self.next_id()),
                        "type": 1,
                        "default_member_permissions": None,
                        "dm_permission": True,
                        "nsfw": False,
                        **command,
                    }
                )
            self.synced_commands[app_id] = synced
            return synced

        return await self._handle(request, "commands_sync", answer)

    async def _callback(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]

        def answer(call: Call) -> Any:
            interaction = self.interactions.get(token)
            if interaction is None or str(interaction.id) != call.params["iid"]:
                return _json_response({"message": "Unknown interaction", "code": 10062}, 404)
            if interaction.responded is not None:
                return _json_response(
                    {"message": "Interaction has already been acknowledged.", "code": 40060}, 400
                )
            body = call.json or {}
            kind = int(body.get("type", 0))
            data = body.get("data") or {}
            flags = int(data.get("flags") or 0)
            interaction.responded = kind
            guild_id = interaction.guild_id
            channel_id = int(interaction.payload["channel"]["id"])
            bot = self._bot_by_app(int(interaction.payload["application_id"]))
            message: JsonDict | None = None
            if kind in (4, 5):
                message_id = self.next_id()
                message = self._message_payload(
                    message_id=message_id,
                    channel_id=channel_id,
                    author=bot.user_payload(),
                    content=str(data.get("content") or ""),
                    components=list(data.get("components") or []),
                    flags=flags | (LOADING if kind == 5 else 0),
                    files=call.files,
                    app_id=bot.app_id,
                    interaction=interaction,
                    data=data,
                )
                interaction.original_id = message_id
                interaction.loading = kind == 5
                interaction.ephemeral_defer = bool(flags & EPHEMERAL)
                if kind == 4:
                    self._store(message, guild_id, bool(flags & EPHEMERAL), "callback")
                else:
                    self.messages[message_id] = message
                    self.message_guild[message_id] = guild_id
                    self.message_ephemeral[message_id] = bool(flags & EPHEMERAL)
            elif kind in (6, 7):
                original = interaction.payload.get("message")
                if original is not None:
                    interaction.original_id = int(original["id"])
                if kind == 7 and interaction.original_id is not None:
                    message = self._edit(interaction.original_id, data, call.files, "callback")
            call.message = message
            response_message_id = interaction.original_id if kind in (4, 5, 7) else None
            resource: JsonDict = {"type": kind}
            if message is not None:
                resource["message"] = message
            return {
                "interaction": {
                    "id": str(interaction.id),
                    "type": interaction.payload["type"],
                    "response_message_id": (
                        str(response_message_id) if response_message_id else None
                    ),
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(flags & EPHEMERAL),
                },
                "resource": resource,
            }

        return await self._handle(request, "callback", answer, token=token)

    def _bot_by_app(self, app_id: int) -> Bot:
        for bot in self.bots.values():
            if bot.app_id == app_id:
                return bot
        raise KeyError(app_id)

    def _edit(
        self, message_id: int, data: JsonDict, files: list[tuple[str, bytes]], route: str
    ) -> JsonDict | None:
        message = self.messages.get(message_id)
        if message is None:
            return None
        message = dict(message)
        for key in ("content", "components", "embeds"):
            if key in data:
                message[key] = (
                    data[key] if data[key] is not None else ("" if key == "content" else [])
                )
        if "attachments" in data or files:
            message["attachments"] = self._attachments(files, data)
        message["flags"] = int(message.get("flags") or 0) & ~LOADING
        message["edited_timestamp"] = TIMESTAMP
        self._store(
            message,
            self.message_guild.get(message_id),
            self.message_ephemeral.get(message_id, False),
            route,
        )
        return message

    async def _followup(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]

        def answer(call: Call) -> Any:
            interaction = self.interactions.get(token)
            if interaction is None or interaction.responded is None:
                return _json_response({"message": "Unknown Webhook", "code": 10015}, 404)
            data = call.json or {}
            flags = int(data.get("flags") or 0)
            if interaction.loading and interaction.original_id is not None:
                # The first follow-up after a deferred "thinking" answer replaces the placeholder,
                # and keeps the defer's visibility.
                interaction.loading = False
                message = self._edit(interaction.original_id, data, call.files, "followup")
                call.message = message
                return message
            message_id = self.next_id()
            bot = self._bot_by_app(int(call.params["app_id"]))
            message = self._message_payload(
                message_id=message_id,
                channel_id=int(interaction.payload["channel"]["id"]),
                author=bot.user_payload(),
                content=str(data.get("content") or ""),
                components=list(data.get("components") or []),
                flags=flags,
                files=call.files,
                app_id=bot.app_id,
                interaction=interaction,
                data=data,
            )
            self._store(message, interaction.guild_id, bool(flags & EPHEMERAL), "followup")
            call.message = message
            return message

        return await self._handle(request, "followup", answer, token=token)

    async def _followup_msg(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        route = {"PATCH": "followup_edit", "DELETE": "followup_delete"}.get(
            request.method, "followup_get"
        )

        def answer(call: Call) -> Any:
            interaction = self.interactions.get(token)
            if interaction is None:
                return _json_response({"message": "Unknown Webhook", "code": 10015}, 404)
            mid = call.params["mid"]
            message_id = interaction.original_id if mid == "@original" else int(mid)
            if message_id is None or message_id not in self.messages:
                return _json_response({"message": "Unknown Message", "code": 10008}, 404)
            if request.method == "DELETE":
                interaction.loading = False
                self.messages.pop(message_id, None)
                return None
            if request.method == "PATCH":
                interaction.loading = False
                message = self._edit(message_id, call.json or {}, call.files, "followup_edit")
                call.message = message
                return message
            return self.messages[message_id]

        return await self._handle(request, route, answer, token=token)

    async def _dm_create(self, request: web.Request) -> web.Response:
        def answer(call: Call) -> Any:
            user_id = int((call.json or {})["recipient_id"])
            person = self.people.get(user_id, Person(user_id, f"user{user_id}"))
            channel_id = self.dm_channel_id(user_id)
            self.channel_guild[channel_id] = None
            return {
                "id": str(channel_id),
                "type": 1,
                "recipients": [person.payload()],
                "last_message_id": None,
                "flags": 0,
            }

        return await self._handle(request, "dm_create", answer)

    async def _channel_message(self, request: web.Request) -> web.Response:
        def answer(call: Call) -> Any:
            channel_id = int(call.params["channel_id"])
            bot = self._bot_for(request)
            if bot is None:
                return _json_response({"message": "401: Unauthorized", "code": 0}, 401)
            refused = self._dm_refused(channel_id)
            if refused is not None:
                return refused
            data = call.json or {}
            message = self._message_payload(
                message_id=self.next_id(),
                channel_id=channel_id,
                author=bot.user_payload(),
                content=str(data.get("content") or ""),
                components=list(data.get("components") or []),
                flags=int(data.get("flags") or 0),
                files=call.files,
                data=data,
            )
            guild_id = self.channel_guild.get(channel_id, 9_999)
            if guild_id is not None:
                message["guild_id"] = str(guild_id)
            self._store(message, guild_id, False, "channel_message")
            call.message = message
            return message

        return await self._handle(request, "channel_message", answer)

    # ---------------------------------------------------------------- gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(
            json.dumps({"op": 10, "d": {"heartbeat_interval": 41_250}, "s": None, "t": None})
        )
        session: Session | None = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                data = frame.get("d")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    session = await self._identify(ws, data)
                elif op == 6:
                    session = await self._resume(ws, data)
        finally:
            if session is not None and session.ws is ws:
                session.ws = None
        return ws

    async def _record_gateway(self, route: str, bot: Bot | None, json_data: Any = None) -> None:
        await self._record(
            Call(
                index=len(self.calls),
                route=route,
                method="WS",
                path="/gateway",
                status=200,
                at=time.perf_counter(),
                json=json_data,
                bot=bot.token if bot else None,
            )
        )

    async def _identify(self, ws: web.WebSocketResponse, data: JsonDict) -> Session | None:
        token = str(data.get("token", "")).removeprefix("Bot ")
        bot = self.bots.get(token)
        if bot is None:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        session = Session(id=secrets.token_hex(8), bot=bot, ws=ws)
        self.sessions[session.id] = session
        self._last_session[token] = session
        self._latest = session
        await self._record_gateway("gateway_identify", bot)
        await self._dispatch(
            session,
            "READY",
            {
                "v": 10,
                "user": bot.user_payload(),
                "guilds": [],
                "session_id": session.id,
                "resume_gateway_url": self.gateway_url,
                "application": {"id": str(bot.app_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: JsonDict) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        token = str(data.get("token", "")).removeprefix("Bot ")
        if session is None or session.bot.token != token:
            await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return None
        session.ws = ws
        session.resumes += 1
        seen = int(data.get("seq") or 0)
        await self._record_gateway("gateway_resume", session.bot, {"seq": seen})
        for event in session.events:
            if event["s"] > seen:
                await ws.send_str(json.dumps(event))
        await self._dispatch(session, "RESUMED", {})
        return session

    async def _dispatch(self, session: Session, name: str, data: JsonDict) -> None:
        session.seq += 1
        event = {"op": 0, "t": name, "s": session.seq, "d": data}
        session.events.append(event)
        if len(session.events) > 5_000:
            del session.events[:1_000]
        ws = session.ws
        if ws is not None and not ws.closed:
            try:
                await ws.send_str(json.dumps(event))
            except ConnectionError:
                session.ws = None  # replayed on RESUME

    def session_for(self, bot_token: str | None = None) -> Session:
        session = self._last_session.get(bot_token) if bot_token else self._latest
        if session is None:
            raise RuntimeError("no client has identified yet")
        return session

    async def drop_connection(self, bot_token: str | None = None, code: int = 4000) -> None:
        """Close the gateway socket as Discord does on a network blip; the client RESUMEs."""
        session = self.session_for(bot_token)
        ws = session.ws
        session.ws = None
        if ws is not None:
            await ws.close(code=code, message=b"dropped by the fake")

    # ---------------------------------------------------------------- interactions

    async def send_interaction(
        self, payload: JsonDict, bot_token: str | None = None
    ) -> Interaction:
        """Dispatch INTERACTION_CREATE (held and replayed on RESUME if the socket is down)."""
        session = self.session_for(bot_token)
        interaction = Interaction(
            id=int(payload["id"]), token=str(payload["token"]), payload=payload
        )
        self.interactions[interaction.token] = interaction
        interaction.sent_at = time.perf_counter()
        await self._dispatch(session, "INTERACTION_CREATE", payload)
        return interaction

    def _base_interaction(
        self,
        kind: int,
        data: JsonDict,
        *,
        user: Person,
        guild_id: int | None,
        channel_id: int | None,
        bot_token: str | None,
    ) -> JsonDict:
        self.people[user.id] = user
        bot = self.session_for(bot_token).bot
        payload: JsonDict = {
            "id": str(self.next_id()),
            "application_id": str(bot.app_id),
            "type": kind,
            "token": secrets.token_urlsafe(24),
            "version": 1,
            "attachment_size_limit": 8 * 1024 * 1024,
            "locale": "en-US",
            "entitlements": [],
            "app_permissions": str((1 << 11) | (1 << 10)),
            "data": data,
        }
        if guild_id is not None:
            channel = channel_id or 4_000 + guild_id % 1_000
            self.channel_guild[channel] = guild_id
            payload.update(
                guild_id=str(guild_id),
                guild_locale="en-US",
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                channel_id=str(channel),
                channel={
                    "id": str(channel),
                    "type": 0,
                    "guild_id": str(guild_id),
                    "name": "general",
                    "position": 0,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "topic": None,
                    "last_message_id": None,
                    "rate_limit_per_user": 0,
                    "flags": 0,
                },
                member={
                    "user": user.payload(),
                    "roles": [],
                    "joined_at": TIMESTAMP,
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                    "pending": False,
                    "nick": None,
                    "avatar": None,
                    "permissions": str(user.permissions),
                },
                context=0,
                authorizing_integration_owners={"0": str(guild_id)},
            )
        else:
            channel = channel_id or self.dm_channel_id(user.id)
            self.channel_guild[channel] = None
            payload.update(
                user=user.payload(),
                channel_id=str(channel),
                channel={
                    "id": str(channel),
                    "type": 1,
                    "recipients": [user.payload()],
                    "last_message_id": None,
                    "flags": 0,
                },
                context=1,
                authorizing_integration_owners={"1": str(user.id)},
            )
        return payload

    def _options(
        self, options: dict[str, Any], focused: str | None = None
    ) -> tuple[list[JsonDict], JsonDict]:
        out: list[JsonDict] = []
        resolved: JsonDict = {}
        for name, value in options.items():
            option: JsonDict
            if isinstance(value, ChannelRef):
                option = {"name": name, "type": 7, "value": str(value.id)}
                resolved.setdefault("channels", {})[str(value.id)] = {
                    "id": str(value.id),
                    "name": value.name,
                    "type": value.type,
                    "permissions": str((1 << 11) | (1 << 10)),
                    "parent_id": None,
                    "position": 0,
                }
            elif isinstance(value, bool):
                option = {"name": name, "type": 5, "value": value}
            elif isinstance(value, int):
                option = {"name": name, "type": 4, "value": value}
            else:
                option = {"name": name, "type": 3, "value": str(value)}
            if name == focused:
                option["focused"] = True
            out.append(option)
        return out, resolved

    def slash_payload(
        self,
        name: str,
        *,
        user: Person,
        guild_id: int | None = None,
        channel_id: int | None = None,
        sub: str | None = None,
        options: dict[str, Any] | None = None,
        focused: str | None = None,
        bot_token: str | None = None,
    ) -> JsonDict:
        opts, resolved = self._options(options or {}, focused)
        if sub is not None:
            opts = [{"name": sub, "type": 1, "options": opts}]
        data: JsonDict = {"id": str(self.next_id()), "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        kind = 4 if focused else 2
        return self._base_interaction(
            kind, data, user=user, guild_id=guild_id, channel_id=channel_id, bot_token=bot_token
        )

    async def slash(
        self,
        name: str,
        /,
        *,
        user: Person,
        guild_id: int | None = None,
        channel_id: int | None = None,
        sub: str | None = None,
        bot_token: str | None = None,
        **options: Any,
    ) -> Interaction:
        payload = self.slash_payload(
            name,
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            sub=sub,
            options=options,
            bot_token=bot_token,
        )
        return await self.send_interaction(payload, bot_token)

    async def autocomplete(
        self,
        name: str,
        focused: str,
        /,
        *,
        user: Person,
        guild_id: int | None = None,
        sub: str | None = None,
        **options: Any,
    ) -> Interaction:
        payload = self.slash_payload(
            name, user=user, guild_id=guild_id, sub=sub, options=options, focused=focused
        )
        return await self.send_interaction(payload)

    async def send_dm(
        self,
        user: Person,
        content: str,
        bot_token: str | None = None,
        *,
        author: JsonDict | None = None,
    ) -> int:
        """The person types `content` in the bot's DM (MESSAGE_CREATE). Returns the channel id.
        `author` overrides who wrote it (the bot's own DMs come back as events too)."""
        self.people[user.id] = user
        channel_id = self.dm_channel_id(user.id)
        self.channel_guild[channel_id] = None
        message = self._message_payload(
            message_id=self.next_id(),
            channel_id=channel_id,
            author=author or user.payload(),
            content=content,
            components=[],
            flags=0,
            files=[],
        )
        await self._dispatch(self.session_for(bot_token), "MESSAGE_CREATE", message)
        return channel_id

    async def press(
        self,
        message_id: int,
        custom_id: str,
        *,
        user: Person,
        message: JsonDict | None = None,
        bot_token: str | None = None,
    ) -> Interaction:
        """Press a button on a message the fake has seen (or on `message`, e.g. a forged one)."""
        msg = message if message is not None else self.messages[message_id]
        guild_id = self.message_guild.get(int(msg["id"]))
        if guild_id is None and msg.get("guild_id"):
            guild_id = int(msg["guild_id"])
        payload = self._base_interaction(
            3,
            {"custom_id": custom_id, "component_type": 2},
            user=user,
            guild_id=guild_id,
            channel_id=int(msg["channel_id"]),
            bot_token=bot_token,
        )
        payload["message"] = msg
        return await self.send_interaction(payload, bot_token)


def _content_type(body: bytes) -> str | None:
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if body.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return None


def custom_ids(message: JsonDict) -> list[str]:
    found: list[str] = []

    def walk(components: list[JsonDict]) -> None:
        for component in components:
            if "custom_id" in component:
                found.append(str(component["custom_id"]))
            walk(list(component.get("components") or []))

    walk(list(message.get("components") or []))
    return found


def buttons(message: JsonDict) -> dict[str, str]:
    """label → custom_id for every button on a message."""
    found: dict[str, str] = {}

    def walk(components: list[JsonDict]) -> None:
        for component in components:
            if component.get("type") == 2 and "custom_id" in component:
                found[str(component.get("label"))] = str(component["custom_id"])
            walk(list(component.get("components") or []))

    walk(list(message.get("components") or []))
    return found
