"""Recurring jobs (APScheduler): the only owner of APScheduler."""
