"""rapport.demo"""
