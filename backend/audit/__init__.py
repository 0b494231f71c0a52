"""The audit blueprint and the trail's append and verify operations."""
