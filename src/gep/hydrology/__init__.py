"""hydrology"""
