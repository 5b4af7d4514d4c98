"""rapport.voice"""
