"""rapport.repeat"""
