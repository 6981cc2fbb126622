"""Realistic, deterministic Telegram traffic: what the demo posts, the benchmarks time and the tests
check the marts against.

:class:`Traffic` builds Bot API updates in time order (update ids grow with time, as Telegram assigns
them) and keeps, for each, what it generated (:class:`Sent`: who sent what, when, of which type,
replying to which message): the truth an independent computation of the marts starts from. On it:

* :func:`conversation`: days of a support group as webhook deliveries, with what a real webhook
  also sees (redeliveries, other chats, requests without the secret, an unreadable body): the demo;
* :func:`busy_day`: one day of N updates of a busy group, streamed: the ETL benchmark.

Users write in Portuguese and English with emoji; they ask questions and answer them in replies,
use bot commands, send media, edit messages, forward, join and leave.
"""

from __future__ import annotations

import functools
import heapq
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "DEMO_CHAT",
    "MEDIA",
    "Delivery",
    "Sent",
    "Traffic",
    "busy_day",
    "conversation",
    "to_bytes",
]

DEMO_CHAT: dict[str, Any] = {
    "id": -1001000000001,
    "title": "Comunidade tgpipe 🇧🇷",
    "type": "supergroup",
    "is_forum": True,
}
OTHER_CHAT: dict[str, Any] = {"id": -1001000000999, "title": "Outro grupo", "type": "supergroup"}
BUSY_CHAT: dict[str, Any] = {
    "id": -1001234567890,
    "title": "Grupo de Suporte 💬",
    "type": "supergroup",
    "is_forum": True,
}
BOT = {"id": 7000000099, "is_bot": True, "first_name": "tgpipe demo", "username": "tgpipe_demo_bot"}
USERS = [
    {"id": 1001, "is_bot": False, "first_name": "Ana", "last_name": "Souza", "username": "anasouza"},
    {"id": 1002, "is_bot": False, "first_name": "Bruno", "username": "bruno_dev"},
    {"id": 1003, "is_bot": False, "first_name": "Carla", "last_name": "Mendes"},
    {"id": 1004, "is_bot": False, "first_name": "David", "username": "dsmith"},
    {"id": 1005, "is_bot": False, "first_name": "Elena", "username": "elena_k"},
    {"id": 1006, "is_bot": False, "first_name": "Fábio", "last_name": "Lima"},
]
NEWCOMERS = [
    {"id": 1007, "is_bot": False, "first_name": "Gabi", "username": "gabi"},
    {"id": 1008, "is_bot": False, "first_name": "Hugo"},
]
SPAMMER = {"id": 1099, "is_bot": False, "first_name": "Promo", "username": "promo_crypto_x"}
ADMIN = USERS[0]  # Ana runs the demo group: she creates its topics, approves requests and bans
# The demo group's forum topics (the first message of each is its forum_topic_created service message).
TOPICS = (("Boletos e Pix", 7322096), ("Instalação", 16766590), ("Avisos", 13338331))
_INVITE_LINKS = {  # how newcomers arrive: a named invite link, or a link that asks an admin first
    "link": {
        "invite_link": "https://t.me/+dEm0S1teL1nk",
        "name": "Site oficial",
        "creates_join_request": False,
    },
    "request": {
        "invite_link": "https://t.me/+dEm0ReqL1nk",
        "name": "Pedido de entrada",
        "creates_join_request": True,
    },
}
REACTIONS = ("👍", "❤", "🔥", "😂", "🎉")
QUESTIONS = [
    "Alguém sabe como emitir a segunda via do boleto? 🙏",
    "Como faço para redefinir a senha do app?",
    "O pagamento por pix caiu pra vocês hoje?",
    "How do I export the monthly report?",
    "Does anyone know why the login keeps failing? 😕",
    "Qual o prazo de entrega para São Paulo?",
    "Is there a way to change the invoice address?",
    "Vocês conseguem acessar o painel agora?",
]
ANSWERS = [
    "Sim! No app, menu Pagamentos → Segunda via 👍",
    "Tenta limpar o cache e entrar de novo",
    "Aqui funcionou normal, pode ter sido instabilidade",
    "Go to Settings → Reports → Export, it's a CSV",
    "Same here, support said they're fixing it 🔧",
    "Geralmente 3 dias úteis",
    "You can change it under Account → Billing",
    "Voltou agora há pouco ✅",
]
CHATTER = [
    "Bom dia pessoal! ☀️",
    "Boa tarde!",
    "Valeu pela ajuda 🙌",
    "Obrigado! Resolveu aqui",
    "Thanks everyone!",
    "kkkkk 😂",
    "Alguém vai no meetup sexta?",
    "Nice, that worked 🎉",
    "Vou testar e aviso",
    "Boa noite, até amanhã 🌙",
    "Good morning folks",
    "Atualizaram o app hoje, ficou bem mais rápido 🚀",
]
COMMANDS = ["/help", "/start@tgpipe_demo_bot", "/stats", "/help@tgpipe_demo_bot", "/faq"]
# What an asker replies to an answer that solved it (words of the resolution_words seed).
THANKS = [
    "Obrigado, resolveu! 🙏",
    "Thanks, that worked!",
    "Valeu, funcionou aqui ✅",
    "Gracias, resuelto 👌",
]
WORDS = [
    *("boleto", "acesso", "senha", "erro", "pagamento", "ajuda", "obrigado", "conta", "app", "login"),
    *("cartão", "fatura", "olá", "bom", "dia", "pessoal", "alguém", "sabe", "como", "resolver"),
    *("problema", "segunda", "via", "pix", "transferência", "🙏", "👍", "😀"),
]

# message_type -> the fields Telegram sends for it, in the ETL's order of precedence (an animation also
# carries a document, a venue a location).
MEDIA: dict[str, dict[str, Any]] = {
    "animation": {  # Telegram also sends `document` with an animation: animation wins
        "animation": {
            "file_id": "CgAC",
            "file_unique_id": "AgAG",
            "width": 320,
            "height": 240,
            "duration": 2,
        },
        "document": {"file_id": "CgAC", "file_unique_id": "AgAG", "file_name": "gif.mp4"},
    },
    "photo": {"photo": [{"file_id": "AgAC1", "file_unique_id": "AQAD1", "width": 800, "height": 600}]},
    "sticker": {
        "sticker": {
            "file_id": "CAAC",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
    },
    "voice": {
        "voice": {
            "file_id": "AwAC",
            "file_unique_id": "AgAE",
            "duration": 4,
            "mime_type": "audio/ogg",
        }
    },
    "document": {"document": {"file_id": "BQAC", "file_unique_id": "AgAF", "file_name": "fatura.pdf"}},
    "video": {
        "video": {"file_id": "BAAC", "file_unique_id": "AgAH", "width": 640, "height": 360, "duration": 9}
    },
    "venue": {  # a venue also carries its location: venue wins
        "venue": {
            "location": {"latitude": -23.56, "longitude": -46.65},
            "title": "Agência",
            "address": "Av. X",
        },
        "location": {"latitude": -23.56, "longitude": -46.65},
    },
    "location": {"location": {"latitude": -23.55, "longitude": -46.63}},
    "poll": {
        "poll": {
            "id": "5",
            "question": "Horário da reunião?",
            "options": [{"text": "14h", "voter_count": 0}, {"text": "15h", "voter_count": 0}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        }
    },
    "dice": {"dice": {"emoji": "🎲", "value": 4}},
    "contact": {"contact": {"phone_number": "+5511999999999", "first_name": "Suporte"}},
}
_PRECEDENCE = ("animation", "photo", "video", "voice", "document", "sticker", "venue", "location", "contact")
MEDIA = {name: MEDIA[name] for name in (*_PRECEDENCE, "poll", "dice")}


def to_bytes(update: dict[str, Any]) -> bytes:
    """An update as Telegram sends it: compact UTF-8 JSON."""
    return json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass
class Sent:
    """What the generator knows about one update it built: the truth the marts are checked against."""

    update_id: int
    kind: str
    chat: dict[str, Any]
    message_id: int
    sent: datetime
    message_type: str
    zone: ZoneInfo
    user: dict[str, Any] | None = None
    sender_chat_id: int | None = None
    edited: datetime | None = None
    text: str | None = None
    caption: str | None = None
    reply_to: int | None = None
    command: str | None = None
    joined: int = 0
    left_id: int | None = None
    forwarded: bool = False
    body: dict[str, Any] = field(default_factory=dict)  # the whole update
    receipt_days: list[date] = field(default_factory=list)  # the raw days it is stored under

    @property
    def is_new_message(self) -> bool:
        return self.kind in ("message", "channel_post") and self.message_type != "service"

    @property
    def day(self) -> date:
        """The local day it was sent."""
        return self.sent.astimezone(self.zone).date()

    @property
    def message(self) -> dict[str, Any]:
        """The Message object inside the update."""
        message: dict[str, Any] = self.body[self.kind]
        return message


class Traffic:
    """Builds updates in time order and remembers what it built (see the module docstring).

    ``names`` and ``titles`` are what users and chats are called from now on (people rename
    themselves and groups are renamed); ``step`` is how far apart consecutive update ids are."""

    def __init__(
        self,
        zone: ZoneInfo,
        *,
        seed: int = 7,
        first_update_id: int = 700_000_000,
        step: tuple[int, int] = (1, 1),
        keep: bool = True,
    ) -> None:
        self.zone = zone
        self.rng = random.Random(seed)
        self.updates: list[Sent] = []  # the Message-bearing updates, in the order built
        self.others: list[tuple[date, int, dict[str, Any]]] = []  # (day, update id, update) without a Message
        self.next_update_id = first_update_id
        self.step = step
        self.keep = keep
        self.message_ids: dict[int, int] = {}
        self.titles: dict[int, str] = {}
        self.names: dict[int, str] = {}

    def update_id(self) -> int:
        low, high = self.step
        self.next_update_id += low if low == high else self.rng.randint(low, high)
        return self.next_update_id

    def _chat(self, chat: dict[str, Any]) -> dict[str, Any]:
        title = self.titles.get(chat["id"])
        return {**chat, "title": title} if title else chat

    def _user(self, user: dict[str, Any]) -> dict[str, Any]:
        name = self.names.get(user["id"])
        return {**user, "first_name": name} if name else user

    def message(
        self,
        chat: dict[str, Any],
        at: datetime,
        *,
        user: dict[str, Any] | None,
        message_type: str = "text",
        text: str | None = None,
        caption: str | None = None,
        reply_to: Sent | None = None,
        command: tuple[str, int, int, str] | None = None,
        forwarded: bool = False,
        service: dict[str, Any] | None = None,
        joined: int = 0,
        left_id: int | None = None,
        message_id: int | None = None,
        content: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Sent:
        """A new message (a ``channel_post`` in a channel). ``command`` is (text, offset, length in
        UTF-16 units, the command as the marts normalise it); ``service`` holds a service message's
        fields; ``content`` the message's content fields as they are (text, media, caption...);
        ``fields`` any other Message field (``message_thread_id``, ``forward_origin``...)."""
        kind = "channel_post" if chat["type"] == "channel" else "message"
        if message_id is None:
            message_id = self.message_ids.get(chat["id"], 0) + 1
        self.message_ids[chat["id"]] = max(message_id, self.message_ids.get(chat["id"], 0))
        body: dict[str, Any] = {"message_id": message_id}
        sender_chat_id = None
        if user is not None:
            body["from"] = self._user(user)
        if chat["type"] == "channel" or (user is not None and user.get("username") == "GroupAnonymousBot"):
            body["sender_chat"] = self._chat(chat)
            sender_chat_id = chat["id"]
        body["chat"] = self._chat(chat)
        body["date"] = epoch(at)
        if reply_to is not None:
            body["reply_to_message"] = reply_to.message
        if forwarded:
            origin_user = USERS[0]
            body["forward_origin"] = {"type": "user", "sender_user": origin_user, "date": epoch(at) - 3600}
            body["forward_from"] = origin_user
            body["forward_date"] = epoch(at) - 3600
        if command is not None:
            text = command[0]
            body["entities"] = [{"offset": command[1], "length": command[2], "type": "bot_command"}]
        if text is not None:
            body["text"] = text
        if message_type in MEDIA:
            body.update(MEDIA[message_type])
            if caption is not None:
                body["caption"] = caption
        if service is not None:
            body.update(service)
        if content is not None:
            body.update(content)
            text, caption = content.get("text", text), content.get("caption", caption)
        body.update(fields)
        sent = Sent(
            update_id=self.update_id(),
            kind=kind,
            chat=chat,
            message_id=message_id,
            sent=at,
            message_type=message_type,
            zone=self.zone,
            user=self._user(user) if user is not None else None,
            sender_chat_id=sender_chat_id,
            text=text,
            caption=caption if message_type in MEDIA or content is not None else None,
            reply_to=reply_to.message_id if reply_to is not None else None,
            command=command[3] if command is not None else None,
            joined=joined,
            left_id=left_id,
            forwarded=forwarded or "forward_origin" in fields,
            receipt_days=[at.astimezone(self.zone).date()],
        )
        sent.body = {"update_id": sent.update_id, kind: body}
        if self.keep:
            self.updates.append(sent)
        return sent

    def edit(self, original: Sent, at: datetime, text: str) -> Sent:
        """The edit of a text message: the same message with a new text and its ``edit_date``."""
        kind = "edited_" + original.kind
        body = {**original.message, "edit_date": epoch(at), "text": text}
        sent = Sent(
            update_id=self.update_id(),
            kind=kind,
            chat=original.chat,
            message_id=original.message_id,
            sent=original.sent,
            message_type="text",
            zone=self.zone,
            user=original.user,
            sender_chat_id=original.sender_chat_id,
            edited=at,
            text=text,
            receipt_days=[at.astimezone(self.zone).date()],
        )
        sent.body = {"update_id": sent.update_id, kind: body}
        if self.keep:
            self.updates.append(sent)
        return sent

    def other(self, at: datetime, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An update that carries no Message (a reaction, a callback query...)."""
        update_id = self.update_id()
        update = {"update_id": update_id, kind: payload}
        if self.keep:
            self.others.append((at.astimezone(self.zone).date(), update_id, update))
        return update

    def media(self, message_type: str) -> dict[str, Any]:
        """The fields of a media message, with file ids unique to the next message."""
        n = self.next_update_id
        fields = json.loads(json.dumps(MEDIA[message_type]))
        for value in fields.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and "file_id" in item:
                    item["file_id"] = f"{item['file_id']}-{n}"
                    item["file_unique_id"] = f"{item['file_unique_id']}-{n}"
        return dict(fields)

    def words(self, low: int, high: int) -> str:
        """``low`` to ``high - 1`` random words of a support group's talk."""
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randrange(low, high)))


# --- a busy day, for the benchmarks -------------------------------------------------------------


def busy_day(
    n: int, day: date, *, seed: int = 7, first_update_id: int = 700_000_000
) -> Iterator[dict[str, Any]]:
    """``n`` updates of one UTC day of a busy forum group, in order: mostly text (a quarter with
    hashtags, mentions and links), some photos with captions, replies, commands, forum topics, edits,
    joins, and reactions (one update in eight); 300 users, 60% with a username."""
    traffic = Traffic(ZoneInfo("UTC"), seed=seed, first_update_id=first_update_id - 1, keep=False)
    rnd = traffic.rng
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for i in range(n):
        uid = 1000 + rnd.randrange(300)
        user: dict[str, Any] = {
            "id": uid,
            "is_bot": False,
            "first_name": f"User{uid}",
            "language_code": "pt-br",
        }
        if rnd.random() < 0.6:
            user["username"] = f"user_{uid}"
        at = start + timedelta(seconds=i * 86_399 // n)
        fields: dict[str, Any] = {}
        if rnd.random() < 0.5:
            fields["message_thread_id"] = rnd.choice((1, 12, 40))
            fields["is_topic_message"] = True
        if i > 3 and rnd.random() < 0.125:
            emoji = {"type": "emoji", "emoji": rnd.choice(("👍", "❤", "🔥", "😂"))}
            reaction = {
                "chat": BUSY_CHAT,
                "message_id": i - rnd.randrange(1, 4),
                "user": user,
                "date": epoch(at),
                "old_reaction": [emoji] if rnd.random() < 0.1 else [],
                "new_reaction": [] if rnd.random() < 0.1 else [emoji],
            }
            yield {"update_id": traffic.update_id(), "message_reaction": reaction}
            continue
        roll = rnd.random()
        if roll < 0.72:
            fields["text"] = traffic.words(1, 40)
            if rnd.random() < 0.25:
                tail = f" #boleto @user_{1000 + rnd.randrange(300)} https://suporte.example.com/faq/{i}"
                start16 = len(fields["text"].encode("utf-16-le")) // 2
                fields["text"] += tail
                fields["entities"] = [
                    {"offset": start16 + 1, "length": 7, "type": "hashtag"},
                    {"offset": start16 + 9, "length": 10, "type": "mention"},
                    {"offset": start16 + 20, "length": len(tail) - 20, "type": "url"},
                ]
            if rnd.random() < 0.2:
                fields["reply_to_message"] = {
                    "message_id": max(1, i - 2),
                    "chat": BUSY_CHAT,
                    "date": epoch(start),
                }
            sent = traffic.message(BUSY_CHAT, at, user=user, message_id=i + 1, **fields)
        elif roll < 0.76:
            command = ("/ajuda@tgpipe_bot boleto", 0, 17, "/ajuda")
            sent = traffic.message(BUSY_CHAT, at, user=user, command=command, message_id=i + 1, **fields)
        elif roll < 0.94:
            sizes = [{"width": w, "height": h} for w, h in ((90, 67), (320, 240), (800, 600))]
            photo = [{"file_id": f"AgACAgEAAxkB{i}", "file_unique_id": f"AQAD{i}", **s} for s in sizes]
            caption = traffic.words(0, 8) or "foto"
            sent = traffic.message(
                BUSY_CHAT, at, user=user, message_id=i + 1, photo=photo, caption=caption, **fields
            )
        elif roll < 0.98:
            sticker = {"file_id": f"CAAC{i}", "file_unique_id": "AgAD", "type": "regular", "emoji": "👍"}
            sent = traffic.message(BUSY_CHAT, at, user=user, message_id=i + 1, sticker=sticker, **fields)
        else:
            service = {"new_chat_members": [user]}
            sent = traffic.message(
                BUSY_CHAT, at, user=user, message_type="service", service=service, message_id=i + 1, **fields
            )
        if rnd.random() < 0.03:
            yield {
                "update_id": sent.update_id,
                "edited_message": {**sent.message, "edit_date": epoch(at) + 60},
            }
        else:
            yield sent.body


# --- the demo's conversation ----------------------------------------------------------------------


_Scheduled = tuple[datetime, int, Callable[[], object]]  # an event due at a time (heap order)


@dataclass(frozen=True)
class Delivery:
    """One POST to the webhook: the body, whether it carries the secret, and what should happen."""

    name: str
    body: bytes
    authenticated: bool = True
    expect: str = "stored"  # stored | ignored_chat | quarantined | unauthorized


class _Conversation:
    """Days of the demo's support group, each event delivered when it happens."""

    def __init__(self, zone: ZoneInfo, seed: int) -> None:
        self.traffic = Traffic(zone, seed=seed, first_update_id=510_000_000)
        self.traffic.message_ids[DEMO_CHAT["id"]] = 100
        self.rnd = self.traffic.rng
        self.deliveries: list[Delivery] = []
        self.members = list(USERS)
        self.newcomers = list(NEWCOMERS)
        self.seq = 0  # tie-breaker of the event heap
        self.last_date = 0
        self.topics: list[int] = []  # the message ids of the forum topics, once created
        self.days = 0

    def deliver(self, name: str, update: dict[str, Any], expect: str = "stored") -> None:
        self.deliveries.append(Delivery(name, to_bytes(update), expect=expect))

    def message(self, when: datetime, user: dict[str, Any], **content: Any) -> Sent:
        message_type = "text" if "text" in content else next((k for k in MEDIA if k in content), "service")
        sent = self.traffic.message(DEMO_CHAT, when, user=user, message_type=message_type, content=content)
        self.last_date = max(self.last_date, epoch(when))
        self.deliver(next(iter(content), "message"), sent.body)
        return sent

    def other(self, when: datetime, kind: str, payload: dict[str, Any]) -> None:
        """An update without a Message (a reaction, a membership change), delivered now."""
        self.last_date = max(self.last_date, epoch(when))
        self.deliver(kind, self.traffic.other(when, kind, payload))

    def _topic(self) -> dict[str, Any]:
        """Where the next message goes: a forum topic (about half of them) or the general chat."""
        if not self.topics or self.rnd.random() < 0.5:
            return {}
        return {"message_thread_id": self.rnd.choice(self.topics), "is_topic_message": True}

    def _create_topics(self, day: date) -> None:
        zone = self.traffic.zone
        for minute, (name, color) in enumerate(TOPICS):
            when = datetime(day.year, day.month, day.day, 7, minute, tzinfo=zone)
            thread = self.traffic.message_ids[DEMO_CHAT["id"]] + 1
            created = {"name": name, "icon_color": color}
            self.message(
                when, ADMIN, forum_topic_created=created, message_thread_id=thread, is_topic_message=True
            )
            self.topics.append(thread)

    def _react(
        self, when: datetime, user: dict[str, Any], target: Sent, emoji: str, *, remove: bool = False
    ) -> None:
        """``user`` adds ``emoji`` to ``target`` (or takes it back)."""
        chosen = [{"type": "emoji", "emoji": emoji}]
        payload = {
            "chat": DEMO_CHAT,
            "message_id": target.message_id,
            "user": user,
            "date": epoch(when),
            "old_reaction": chosen if remove else [],
            "new_reaction": [] if remove else chosen,
        }
        self.other(when, "message_reaction", payload)

    def _maybe_react(
        self, later: list[_Scheduled], sent: Sent, by: list[dict[str, Any]], chance: float
    ) -> None:
        """Sometimes, a few minutes after ``sent``, someone of ``by`` reacts; now and then takes it back."""
        rnd = self.rnd
        if rnd.random() >= chance:
            return
        user, emoji = rnd.choice(by), rnd.choice(REACTIONS)
        at = sent.sent + timedelta(minutes=rnd.randint(1, 20))
        self._schedule(later, at, functools.partial(self._react, at, user, sent, emoji))
        if rnd.random() < 0.1:
            back = at + timedelta(minutes=rnd.randint(1, 30))
            self._schedule(later, back, functools.partial(self._react, back, user, sent, emoji, remove=True))

    def _answer(
        self, later: list[_Scheduled], at: datetime, helper: dict[str, Any], q: int, question: Sent
    ) -> None:
        """The answer, in the question's topic; the asker often thanks it with a reaction."""
        thread = {
            k: question.message[k] for k in ("message_thread_id", "is_topic_message") if k in question.message
        }
        answer = self.message(at, helper, text=ANSWERS[q], reply_to_message=question.message, **thread)
        if question.user is None:
            return
        self._maybe_react(later, answer, [question.user], 0.5)
        if self.rnd.random() < 0.4:  # the asker says it worked, replying to the answer
            thanks_at = at + timedelta(minutes=self.rnd.randint(2, 90))
            thanks = functools.partial(
                self.message,
                thanks_at,
                question.user,
                text=self.rnd.choice(THANKS),
                reply_to_message=answer.message,
                **thread,
            )
            self._schedule(later, thanks_at, thanks)

    def day(self, day: date) -> None:
        """One day of the group, delivered in time order (answers and edits come when they happen)."""
        rnd, zone = self.rnd, self.traffic.zone
        # Busier in the morning and the evening, quiet at night.
        hours = [h for h in range(7, 24) for _ in range(3 if h in (9, 10, 11, 19, 20, 21) else 1)]
        times = sorted(
            datetime(day.year, day.month, day.day, rnd.choice(hours), rnd.randrange(60), tzinfo=zone)
            for _ in range(rnd.randint(35, 60))
        )
        later: list[_Scheduled] = []  # a heap of scheduled events
        if not self.topics:
            self._create_topics(day)
        if self.days == 2:  # Fábio stays in the group but stops posting: he goes silent
            self.members = [u for u in self.members if u["first_name"] != "Fábio"]
        self._membership(day, later)
        for when in times:
            while later and later[0][0] <= when:
                heapq.heappop(later)[2]()
            self._event(when, later)
        while later:
            heapq.heappop(later)[2]()
        self.days += 1

    def _event(self, when: datetime, later: list[_Scheduled]) -> None:
        rnd = self.rnd
        asker = rnd.choice(self.members)
        roll = rnd.random()
        if roll < 0.25:
            q = rnd.randrange(len(QUESTIONS))
            question = self.message(when, asker, text=QUESTIONS[q], **self._topic())
            if rnd.random() < 0.75:  # most questions get an answer: the bot's at once, people's later
                if rnd.random() < 0.35:
                    helper, at = BOT, when + timedelta(seconds=rnd.randint(5, 50))
                else:
                    helper = rnd.choice([u for u in self.members if u is not asker])
                    at = when + timedelta(minutes=rnd.choice([1, 2, 4, 7, 15, 30, 55]))
                self._schedule(later, at, functools.partial(self._answer, later, at, helper, q, question))
        elif roll < 0.33:
            command = rnd.choice(COMMANDS)
            length = len(command.encode("utf-16-le")) // 2
            entities = [{"offset": 0, "length": length, "type": "bot_command"}]
            self.message(when, asker, text=command, entities=entities, **self._topic())
        elif roll < 0.43:
            self._maybe_react(later, self._media(when, asker), self.members, 0.3)
        elif roll < 0.48:
            sent = self.message(when, asker, text="Reunião amanhã às 10h")
            edit_at = when + timedelta(minutes=2)

            def edit(sent: Sent = sent, edit_at: datetime = edit_at) -> None:
                self.deliver("edit", self.traffic.edit(sent, edit_at, "Reunião amanhã às 11h ✏️").body)

            self._schedule(later, edit_at, edit)
        elif roll < 0.50:
            origin = {"type": "hidden_user", "sender_user_name": "Canal X", "date": epoch(when) - 86_400}
            self.message(when, asker, text="Olha isso", forward_origin=origin)
        else:
            chatter = self.message(when, asker, text=rnd.choice(CHATTER), **self._topic())
            self._maybe_react(later, chatter, [u for u in self.members if u is not asker], 0.25)

    def _media(self, when: datetime, user: dict[str, Any]) -> Sent:
        rnd, n = self.rnd, self.traffic.message_ids[DEMO_CHAT["id"]]
        file = {"file_id": f"demo-file-{n}", "file_unique_id": f"demo-u-{n}"}
        kind = rnd.choice(["photo", "sticker", "voice", "document", "animation", "location", "poll", "video"])
        options: dict[str, dict[str, Any]] = {
            "photo": {"photo": [{**file, "width": 1280, "height": 720}], "caption": "print do erro 📸"},
            "sticker": {"sticker": {**file, "type": "regular", "width": 512, "height": 512, "emoji": "👍"}},
            "voice": {"voice": {**file, "duration": 7, "mime_type": "audio/ogg"}},
            "document": {"document": {**file, "file_name": "relatorio.pdf"}, "caption": "Segue o relatório"},
            "animation": {
                "animation": {**file, "width": 320, "height": 240, "duration": 3},
                "document": {**file, "file_name": "funny.mp4"},
            },
            "location": {"location": {"latitude": -23.5505, "longitude": -46.6333}},
            "poll": {
                "poll": {
                    **MEDIA["poll"]["poll"],
                    "id": f"poll-{n}",
                    "question": "Melhor dia para o meetup?",
                    "options": [{"text": "Sexta", "voter_count": 0}, {"text": "Sábado", "voter_count": 0}],
                }
            },
            "video": {"video": {**file, "width": 1920, "height": 1080, "duration": 12}, "caption": "demo"},
        }
        return self.message(when, user, **options[kind], **self._topic())

    def _schedule(self, later: list[_Scheduled], at: datetime, event: Callable[[], object]) -> None:
        self.seq += 1
        item: _Scheduled = (at, self.seq, event)
        heapq.heappush(later, item)

    def _membership(self, day: date, later: list[_Scheduled]) -> None:
        """Someone joins (and says hello) or leaves, at some time of the day; on the fourth day a
        spammer joins, posts an ad and is banned."""
        rnd, zone = self.rnd, self.traffic.zone
        when = datetime(day.year, day.month, day.day, rnd.randint(8, 22), rnd.randrange(60), tzinfo=zone)
        if self.newcomers and rnd.random() < 0.6:
            user = self.newcomers.pop(0)
            how = "link" if user is NEWCOMERS[0] else "request"
            self._schedule(later, when, functools.partial(self._arrive, later, when, user, how))
        elif len(self.members) > 5 and rnd.random() < 0.3:
            self._schedule(later, when, functools.partial(self._leave, when, self.members[-1]))
        if self.days == 3:
            at = datetime(day.year, day.month, day.day, 13, 5, tzinfo=zone)
            self._schedule(later, at, functools.partial(self._spam, later, at))

    def _member_change(
        self,
        when: datetime,
        user: dict[str, Any],
        old: str,
        new: str,
        *,
        actor: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        """A chat_member update: ``user`` goes from ``old`` to ``new`` (by ``actor``, else themselves)."""
        payload = {
            "chat": DEMO_CHAT,
            "from": actor or user,
            "date": epoch(when),
            "old_chat_member": {"user": user, "status": old},
            "new_chat_member": {
                "user": user,
                "status": new,
                **({"until_date": 0} if new == "kicked" else {}),
            },
            **extra,
        }
        self.other(when, "chat_member", payload)

    def _link(self, how: str) -> dict[str, Any]:
        return {**_INVITE_LINKS[how], "creator": ADMIN, "is_primary": False, "is_revoked": False}

    def _arrive(self, later: list[_Scheduled], when: datetime, user: dict[str, Any], how: str) -> None:
        """Through a named invite link (joins at once), or a join request an admin approves later."""
        if how == "link":
            self._member_change(when, user, "left", "member", invite_link=self._link(how))
            self._join(when, user)
            return
        request = {
            "chat": DEMO_CHAT,
            "from": user,
            "user_chat_id": user["id"],
            "date": epoch(when),
            "bio": "dev",
            "invite_link": self._link(how),
        }
        self.other(when, "chat_join_request", request)
        approved = when + timedelta(minutes=25)

        def approve() -> None:
            self._member_change(approved, user, "left", "member", actor=ADMIN, via_join_request=True)
            self._join(approved, user)

        self._schedule(later, approved, approve)

    def _spam(self, later: list[_Scheduled], when: datetime) -> None:
        self._join(when, SPAMMER, hello="Ganhe 500% ao mês 🚀🚀 chama no privado")
        banned = when + timedelta(minutes=3)
        self._schedule(later, banned, functools.partial(self._ban, banned, SPAMMER))

    def _ban(self, when: datetime, user: dict[str, Any]) -> None:
        self.members.remove(user)
        self._member_change(when, user, "member", "kicked", actor=ADMIN)

    def _join(
        self, when: datetime, user: dict[str, Any], hello: str = "Oi pessoal, cheguei agora 👋"
    ) -> None:
        self.members.append(user)
        self.message(when, user, new_chat_members=[user])
        self.message(when + timedelta(minutes=1), user, text=hello)

    def _leave(self, when: datetime, user: dict[str, Any]) -> None:
        self.members.remove(user)
        self.message(when, user, left_chat_member=user)


def conversation(days: int, end: date, zone: ZoneInfo, seed: int = 7) -> list[Delivery]:
    """The deliveries of ``days`` days of conversation ending on ``end`` (inclusive), in order."""
    conv = _Conversation(zone, seed)
    for offset in range(days - 1, -1, -1):
        conv.day(end - timedelta(days=offset))
    stored = [d for d in conv.deliveries if d.expect == "stored"]
    rnd = conv.rnd
    extra: list[Delivery] = []
    # What else a webhook sees: Telegram's retries, a reaction, other chats, strangers, garbage.
    extra += [Delivery(f"redelivered {d.name}", d.body) for d in rnd.sample(stored, 5)]
    reaction = {
        "chat": DEMO_CHAT,
        "message_id": 101,
        "user": USERS[0],
        "date": conv.last_date,
        "old_reaction": [],
        "new_reaction": [{"type": "emoji", "emoji": "❤"}],
    }
    conv.deliver(
        "reaction",
        conv.traffic.other(datetime.fromtimestamp(conv.last_date, zone), "message_reaction", reaction),
    )
    for i in range(3):
        other = {
            "message_id": i + 1,
            "from": USERS[1],
            "chat": OTHER_CHAT,
            "date": 1_760_000_000,
            "text": "oi",
        }
        conv.deliver(
            "other chat", {"update_id": conv.traffic.update_id(), "message": other}, expect="ignored_chat"
        )
    forged = to_bytes(
        {"update_id": 1, "message": {"message_id": 1, "chat": DEMO_CHAT, "date": 0, "text": "spam"}}
    )
    extra += [Delivery("no secret", forged, authenticated=False, expect="unauthorized")] * 2
    extra.append(Delivery("truncated body", b'{"update_id": 5100', expect="quarantined"))
    return conv.deliveries + extra
