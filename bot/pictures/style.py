"""Sizes and colours of the exercise pictures.

A dark-neutral background with light strokes reads in a dark chat theme and stands out as a
picture in a light one. Accent colours are Okabe-Ito, told apart with every common colour-vision
deficiency, and never the only signal: the crossed-out figure also has an X, the arrow a head,
the spine line a dash.
"""

from __future__ import annotations

# Bump when a change to the drawing should replace every cached picture.
RENDERER_VERSION = 1

DPI = 100
STILL_PX = (800, 450)  # 16:9 fills a phone's width in Telegram and Discord
ANIMATION_PX = (480, 270)  # smaller: a GIF of ~16 frames stays a few hundred kB at most
STEPS = 8  # frames from one key position to the next
KEY_MS = 700  # a pause on each key position, as in a controlled rep
STEP_MS = 70

BACKGROUND = "#24272C"
NEAR = "#F2F2F2"  # the limbs nearer the viewer, the trunk and head
FAR = "#8E949C"  # the limbs on the far side
FLOOR = "#B8BCC2"
MAT = "#56B4E9"  # Okabe-Ito sky blue
PROP = "#E69F00"  # Okabe-Ito orange: strap, plate, dowel, bench, kettlebell
ARROW = "#F0E442"  # Okabe-Ito yellow
SPINE = "#009E73"  # Okabe-Ito bluish green: the neutral-spine line, the "do this" tick
WRONG = "#D55E00"  # Okabe-Ito vermillion: the cross over the movement to skip
TEXT = "#F2F2F2"
MUTED = "#B8BCC2"

# Thicknesses in body heights (the figure is about 1.0 tall standing).
TRUNK_WIDTH = 0.1
THIGH_WIDTH = 0.07
SHIN_WIDTH = 0.055
FOOT_WIDTH = 0.03
UPPER_ARM_WIDTH = 0.045
FOREARM_WIDTH = 0.038
NECK_WIDTH = 0.045

TITLE_PX = 26
LABEL_PX = 19
CUE_PX = 26
