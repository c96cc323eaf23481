"""indicators.protected"""
