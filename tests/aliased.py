"""A module that knows math and numpy only by other names."""
import math as m
from math import exp as e

import numpy as xp


def f(x):
    return m.sin(x) + e(x) * xp.pi
