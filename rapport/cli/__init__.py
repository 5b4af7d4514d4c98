"""rapport.cli"""
