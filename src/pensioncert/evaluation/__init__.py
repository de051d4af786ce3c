"""Evaluations that run recordings through the production decision path (``eval attacks``, ``eval pilot``).

``harness`` plays the phone against the real application and worker job; ``attacks`` builds
the attacks of issue #12 from the synthetic subjects; ``pilot`` measures an agency's own pilot.
"""
