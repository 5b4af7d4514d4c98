"""rapport.decide"""
