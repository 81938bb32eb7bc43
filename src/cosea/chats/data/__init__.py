"""Data files the conversation analyser ships: the default risk model, reason phrases, demo chats."""
