"""rapport.strategy"""
