"""The flows of a conversation: the first part of a button payload (`bot.core.actions`) and of
the open question a person's next answer goes to. Declared once here; the codes are stored in
people's open questions and in buttons already sent, so they never change."""

from __future__ import annotations

ONBOARDING = "ob"  # /start's questions
ROUTINE = "rt"  # "Show today's routine", a routine's "Done", and the open marker after a routine
CHECKIN = "ci"  # the check-in's questions
MORNING = "am"  # the next morning's pain question
SELF_TEST = "st"  # an entry self-test: Action("st", test id, "pass"|"fail", person id)
REVIEW = "rv"  # "I've been seen by a clinician" after leg symptoms
SCREEN = "scr"  # the red-flag screen on its own
CLEARED = "clr"  # "A clinician has cleared me" after a red flag
BAD_DAY = "bd"  # a bad day's choices: a lighter routine or a short pause
DELETE = "del"  # /delete's confirmation
REMINDER = "rm"  # a reminder's Start / Later / Skip today
TEAM = "tm"  # a team post's "Start my routine" and a member's name choice
ACTIVITIES = "act"  # the person's own activities (PSFS): picked or typed, then rated
REASSESS = "ra"  # the 4-weekly reassessment: Action("ra", "open", week, person id) and its answers
EXERCISE = "ex"  # an exercise picture's "More": Action("ex", "more", exercise key, 0), anyone
