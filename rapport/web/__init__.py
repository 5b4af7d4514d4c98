"""rapport.web"""
