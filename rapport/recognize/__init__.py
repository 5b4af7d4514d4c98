"""rapport.recognize"""
