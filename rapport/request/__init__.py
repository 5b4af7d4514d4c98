"""rapport.request"""
