"""rapport.customers"""
