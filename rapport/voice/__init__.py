"""rapport.voice: what customers tell us (tickets, reviews, posts, call notes, conversations), how they feel, what
they talk about, what is suddenly going wrong, and which customers are hurting."""

from rapport.voice.items import VoiceItem, VoiceReport
from rapport.voice.service import record_voice_items

__all__ = ["VoiceItem", "VoiceReport", "record_voice_items"]
