# Replaced by «заполнить по ИНН».
def requisites(request):
    raise NotImplementedError
