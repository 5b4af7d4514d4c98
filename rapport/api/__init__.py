"""rapport.api"""
