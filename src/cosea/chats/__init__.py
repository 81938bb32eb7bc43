"""Conversations: read chat exports, recognise techniques, follow the offence, warn early."""
