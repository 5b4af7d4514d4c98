"""rapport.respond"""
