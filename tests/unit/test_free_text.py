"""The free-text reader against the shipped phrases: every sign's phrasings and paraphrases hit,
everyday messages don't, red flags win, negation is narrow, and no text makes it raise."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.content import Library, check_content, load_library
from bot.core.free_text import BREAK, RED_FLAGS, Intent, Kind, read_free_text, words

REAL_CONTENT = Path(__file__).resolve().parents[2] / "content"
LIBRARY = load_library(REAL_CONTENT)
EMERGENCY_SIGNS = {"saddle-numbness", "bladder", "bowel", "both-legs-weak", "sexual-dysfunction"}
CLINICIAN_SIGNS = {"cancer", "fever-unwell", "weight-loss", "trauma", "night-pain"}
CLINICIAN_SIGNS |= {"osteoporosis-steroids"}


def read(text: str) -> Intent:
    return read_free_text(text, LIBRARY)


def _signs() -> list[tuple[str, str, str]]:
    assert LIBRARY.red_flags is not None
    return [(s.id, s.level, p) for s in LIBRARY.red_flags.signs for p in s.phrases]


# --- the shipped content -------------------------------------------------------------------


def test_shipped_phrases_load_and_pass_the_checker() -> None:
    assert check_content(REAL_CONTENT) == []
    assert LIBRARY.red_flags is not None and LIBRARY.everyday is not None
    by_id = {sign.id: sign for sign in LIBRARY.red_flags.signs}
    assert {i for i, s in by_id.items() if s.level == "emergency"} == EMERGENCY_SIGNS
    assert {i for i, s in by_id.items() if s.level == "clinician"} == CLINICIAN_SIGNS
    assert by_id["leg-symptoms"].level == "leg"
    for sign in by_id.values():
        assert len(sign.phrases) >= 4, sign.id


@pytest.mark.parametrize(("sign", "level", "phrase"), _signs())
def test_every_listed_phrase_reads_as_its_sign(sign: str, level: str, phrase: str) -> None:
    intent = read(phrase)
    assert intent.red_flag
    # A phrase shared by two signs ("could not hold it in") reads as the first; never as a
    # less urgent level than its own.
    assert RED_FLAGS.index(intent.kind) <= RED_FLAGS.index(Kind(level))
    if intent.kind == level:
        assert intent.sign == sign or phrase in {"could not hold it in"}


def test_every_ordinary_example_reads_as_no_red_flag() -> None:
    assert LIBRARY.red_flags is not None
    assert len(LIBRARY.red_flags.ordinary) >= 20
    for text in LIBRARY.red_flags.ordinary:
        assert not read(text).red_flag, text


# --- paraphrases written here, not in the content --------------------------------------------

HITS = [
    # saddle numbness
    ("I can’t feel my inner thighs", "saddle-numbness"),
    ("I CANNOT feel my inner thighs!!", "saddle-numbness"),
    ("cant feel my inner thighs", "saddle-numbness"),
    ("My bum is numb", "saddle-numbness"),
    ("my bum's numb", "saddle-numbness"),
    ("my butt has gone completely numb", "saddle-numbness"),
    ("it's numb down there", "saddle-numbness"),
    ("Numbness around my groin since yesterday", "saddle-numbness"),
    ("my backside, it's numb", "saddle-numbness"),
    ("I can no longer feel my bum", "saddle-numbness"),
    ("numb-ness in my crotch", "saddle-numbness"),
    ("weird: no feeling in my bottom when I wipe", "saddle-numbness"),
    ("pins and needles in my genitals", "saddle-numbness"),
    # bladder
    ("I peed myself a bit", "bladder"),
    ("I think I wet myself", "bladder"),
    ("I couldn't hold it in", "bladder"),
    ("couldnt hold it in", "bladder"),
    ("I’m leaking", "bladder"),
    ("leaking a bit of urine", "bladder"),
    ("I can't pee", "bladder"),
    ("I can not pee properly", "bladder"),
    ("struggling to pee since this morning", "bladder"),
    ("I didn't make it to the toilet", "bladder"),
    ("No I wet myself", "bladder"),
    # bowel
    ("I pooed myself", "bowel"),
    ("pooped my pants on the way home", "bowel"),
    ("I've lost control of my bowels", "bowel"),
    ("can't tell when I need to poo", "bowel"),
    # both legs
    ("Both legs feel weak", "both-legs-weak"),
    ("both my legs are weak today", "both-legs-weak"),
    ("my legs keep giving way", "both-legs-weak"),
    ("legs buckled on the stairs", "both-legs-weak"),
    ("weakness in both legs", "both-legs-weak"),
    # sexual function
    ("can't get an erection", "sexual-dysfunction"),
    ("I cannot get it up since the pain started", "sexual-dysfunction"),
    ("numb during sex", "sexual-dysfunction"),
    ("I can't climax any more", "sexual-dysfunction"),
    # clinician first
    ("I had cancer five years ago", "cancer"),
    ("finished chemo last year", "cancer"),
    ("I've got a fever", "fever-unwell"),
    ("feeling really unwell", "fever-unwell"),
    ("I've lost a lot of weight lately", "weight-loss"),
    ("losing weight without trying", "weight-loss"),
    ("I fell down the stairs yesterday", "trauma"),
    ("slipped and fell on the ice", "trauma"),
    ("it started after a car accident", "trauma"),
    ("the pain keeps me awake", "night-pain"),
    ("hurts all night, every night", "night-pain"),
    ("I have osteoporosis", "osteoporosis-steroids"),
    ("been on steroids for years", "osteoporosis-steroids"),
    # one-sided leg symptoms
    ("my leg is numb", "leg-symptoms"),
    ("tingling down my left leg", "leg-symptoms"),
    ("sciatica again", "leg-symptoms"),
    ("pins and needles in my foot", "leg-symptoms"),
    ("shooting pain down the back of my right leg", "leg-symptoms"),
    ("my right calf feels numb", "leg-symptoms"),
    ("my foot is tingly", "leg-symptoms"),
    ("tingling in my toes", "leg-symptoms"),
]
LEVEL = {s.id: Kind(s.level) for s in (LIBRARY.red_flags.signs if LIBRARY.red_flags else [])}


@pytest.mark.parametrize(("text", "sign"), HITS)
def test_paraphrase_hits(text: str, sign: str) -> None:
    assert read(text) == Intent(LEVEL[sign], sign=sign)


ORDINARY = [
    "numbers",
    "No numbness",
    "no numbness or tingling",
    "I don't have any tingling",
    "I dont have any numbness in my leg",
    "I haven't noticed any numbness down there",
    "my bum is not numb",
    "my leg isn't numb anymore",
    "never had sciatica",
    "zero tingling today",
    "my hamstrings feel tight",
    "I feel great",
    "my legs are sore from squats",
    "my legs are sore",
    "I peed before the routine",
    "going for a wee then I'll start",
    "the numbers on the plate are worn",
    "I fell asleep halfway through",
    "I can't touch my toes",
    "my calves feel tight",
    "I felt a good stretch in my thigh",
    "my glutes were burning in the bridges",
    "lower back is a bit stiff",
    "bad day at work",
    "",
    "   ",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_messages_are_no_red_flag(text: str) -> None:
    assert not read(text).red_flag


@pytest.mark.parametrize(
    "text",
    ["my legs are sore from squats", "I peed before the routine", "I feel great", "done"],
)
def test_ordinary_messages_never_get_the_urgent_advice(text: str) -> None:
    assert read(text).kind != Kind.EMERGENCY


# --- negation --------------------------------------------------------------------------------

NEGATION = [
    # (text, still a hit?)
    ("no numbness down there", False),
    ("I don't have numbness or tingling in my leg", False),
    ("I do not feel any numbness in my bum", False),
    ("without any numbness in my groin", False),
    ("I never wet myself", False),
    ("not done yet", False),
    ("neither numbness nor tingling in my foot", False),  # "nor" carries the negation on
    ("no pain and my bum is numb", True),  # "and" does not
    ("no pain but my bum is numb", True),  # "but" starts a new clause
    ("no pain, my bum is numb", True),  # so does a comma
    ("no pain just my bum is numb", True),
    ("I'm not sure but I think I wet myself", True),
    ("not sure if I peed myself", True),  # a hedge, not a negation
    ("I don't know why I can't pee", True),
    ("not much pain, but I wet myself", True),
    ("nothing hurts, though my leg is tingling", True),
    ("the pain is not bad, my leg is numb", True),
    ("I wasn't in pain all day and then I wet myself", True),  # "not" is too far back
]


@pytest.mark.parametrize(("text", "hit"), NEGATION)
def test_negation_is_narrow(text: str, hit: bool) -> None:
    assert (read(text).kind != Kind.NONE) is hit, read(text)


# --- precedence ------------------------------------------------------------------------------

PRECEDENCE = [
    ("did my routine and now I can't feel my bum", Kind.EMERGENCY),
    ("my leg is tingling and I wet myself", Kind.EMERGENCY),
    ("sciatica, and I had cancer years ago", Kind.CLINICIAN),
    ("done, sciatica again", Kind.LEG),
    ("pain 7 and my leg is numb", Kind.LEG),
    ("my back hurts today and my foot is numb", Kind.LEG),
    ("done but my back hurts", Kind.DONE),
    ("hi, bad day today", Kind.BAD_DAY),
    ("hi, done", Kind.DONE),
    ("hello, pain 3", Kind.HELLO),  # a score comes alone; with a greeting it is not read
]


@pytest.mark.parametrize(("text", "kind"), PRECEDENCE)
def test_precedence(text: str, kind: Kind) -> None:
    assert read(text).kind == kind


# --- scores ----------------------------------------------------------------------------------

SCORES = [
    ("3", 3),
    ("0", 0),
    ("10", 10),
    ("3/10", 3),
    ("3 / 10", 3),
    ("10/10", 10),
    ("pain 3", 3),
    ("Pain is about 4 out of 10", 4),
    ("I'd say a 2", 2),
    ("seven", 7),
    ("３", 3),  # a full-width digit is a digit
    ("11", None),  # above the scale
    ("100", None),
    ("²", None),  # a superscript is not a score
    ("٣", None),
    ("3.5", None),
    ("3 4", None),
    ("pain 3 then 5", None),
    ("9" * 5000, None),
]


@pytest.mark.parametrize(("text", "value"), SCORES)
def test_scores(text: str, value: int | None) -> None:
    intent = read(text)
    if value is None:
        assert intent.kind != Kind.NUMBER
    else:
        assert intent == Intent(Kind.NUMBER, value=value)


# --- everyday intents ------------------------------------------------------------------------

EVERYDAY = [
    ("done", Kind.DONE),
    ("Done!", Kind.DONE),
    ("I did it", Kind.DONE),
    ("finished :)", Kind.DONE),
    ("all done for today", Kind.DONE),
    ("did my routine this morning", Kind.DONE),
    ("completed it", Kind.DONE),
    ("I haven't done it", Kind.NONE),
    ("my back hurts today", Kind.BAD_DAY),
    ("back is sore", Kind.BAD_DAY),
    ("Bad day.", Kind.BAD_DAY),
    ("flare-up today", Kind.BAD_DAY),
    ("it hurts", Kind.BAD_DAY),
    ("not a bad day at all", Kind.NONE),
    ("my back doesn't hurt", Kind.NONE),
    ("help please", Kind.HELP),
    ("Hi!", Kind.HELLO),
    ("hi there", Kind.HELLO),
    ("I feel great", Kind.NONE),
    ("this", Kind.NONE),  # "hi" inside a word is no greeting
]


@pytest.mark.parametrize(("text", "kind"), EVERYDAY)
def test_everyday(text: str, kind: Kind) -> None:
    assert read(text) == Intent(kind)


def test_everyday_phrases_read_as_their_intent() -> None:
    assert LIBRARY.everyday is not None
    for kind, phrases in (
        (Kind.DONE, LIBRARY.everyday.done),
        (Kind.BAD_DAY, LIBRARY.everyday.bad_day),
    ):
        assert len(phrases) >= 4
        for phrase in phrases:
            assert read(phrase) == Intent(kind), phrase


def test_a_library_without_phrases_reads_only_scores() -> None:
    bare = Library({}, [], {})
    assert read_free_text("I wet myself", bare) == Intent(Kind.NONE)
    assert read_free_text("done", bare) == Intent(Kind.NONE)
    assert read_free_text("3/10", bare) == Intent(Kind.NUMBER, value=3)


# --- normalising -----------------------------------------------------------------------------


def test_words() -> None:
    def said(text: str) -> str:
        return " ".join(words(text))

    assert BREAK == "|"
    assert said("I can’t feel it, she’s FINE.") == "i cannot feel it | she is fine |"
    assert said("can't cant cannot can not CAN’T") == "cannot cannot cannot cannot cannot |"
    assert said("didn't didnt did n't") == "did not did not did n t |"
    assert said("I'll be ill") == "i will be ill |"  # "ill" is a word that matters here
    assert said("numbers, numb-ness") == "numbers | numb ness |"
    assert said("²½①") == ""
    assert said("Straße\nok") == "strasse | ok |"


ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
VOCABULARY = sorted(
    {w for _, _, phrase in _signs() for w in phrase.split()}
    | {"no", "not", "but", ",", ".", "'", "’", "3", "/10", "done", "numbers", "sore"}
)


@given(st.text(max_size=300))
def test_any_text_reads_without_raising(text: str) -> None:
    assert isinstance(read(text), Intent)


@given(st.lists(st.sampled_from(VOCABULARY), max_size=12).map(" ".join))
def test_any_mix_of_sign_words_reads_without_raising(text: str) -> None:
    intent = read(text)
    assert intent.red_flag == (intent.sign is not None)
    assert (intent.kind == Kind.NUMBER) == (intent.value is not None)


@given(ASCII)
def test_case_and_apostrophes_do_not_matter(text: str) -> None:
    assert read(text) == read(text.upper()) == read(text.replace("'", "’"))
