# Replaced by the kanban board.
def board(request):
    raise NotImplementedError


def column(request, status):
    raise NotImplementedError
